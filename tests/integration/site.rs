//! What the site serves besides its pages: the bundle's files, compressed
//! copies made at build time, and caching rules that keep private pages and
//! answers out of every cache. (The release bundle's hashed, immutable files
//! are checked in the browser, against the release build, by the Playwright
//! suite: `end2end/tests/bundle.spec.ts`.)

use crate::common::TestServer;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, COOKIE};
use serde_json::Value;

/// A site root of our own: one bundle-like file with a brotli copy beside
/// it, as `cargo leptos build --release --precompress` leaves them.
fn site_root() -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("natter-site-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(
        root.join("pkg/natter.js"),
        "export default 1;\n".repeat(100),
    )
    .unwrap();
    std::fs::write(root.join("pkg/natter.js.br"), b"brotli bytes").unwrap();
    root
}

#[tokio::test]
async fn the_compressed_copy_is_served_to_browsers_that_accept_it_and_revalidated() {
    let root = site_root();
    let server = TestServer::start_with(&[("LEPTOS_SITE_ROOT", root.to_str().unwrap())]).await;
    let client = reqwest::Client::new();
    let br = client
        .get(server.url("/pkg/natter.js"))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(br.status(), StatusCode::OK);
    assert_eq!(br.headers()[CONTENT_ENCODING], "br");
    // Without hash.txt beside this (test) binary the names are the plain
    // ones, which a new build reuses: use, but ask first.
    assert_eq!(br.headers()[CACHE_CONTROL], "no-cache");
    assert_eq!(br.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let plain = client
        .get(server.url("/pkg/natter.js"))
        .header(ACCEPT_ENCODING, "identity")
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert!(plain.text().await.unwrap().starts_with("export default 1;"));
    let missing = client
        .get(server.url("/pkg/nothing.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[CACHE_CONTROL], "no-store");
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn pages_and_answers_with_private_data_are_never_stored_by_a_cache() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let inbox = alice.get(&format!("/api/v1/chats/{}", alice.id)).await;
    assert_eq!(inbox.status(), StatusCode::OK);
    assert_eq!(inbox.headers()[CACHE_CONTROL], "no-store");
    let page = reqwest::Client::new()
        .get(server.url("/"))
        .header(ACCEPT, "text/html")
        .header(COOKIE, format!("natter_session={}", alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CACHE_CONTROL], "no-store");
    assert!(page.text().await.unwrap().contains(&alice.username));
}

#[tokio::test]
async fn a_failed_server_function_answers_with_the_status_of_its_code() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let client = reqwest::Client::new();
    let wrong = client
        .post(server.url("/api/login"))
        .form(&[
            ("username", alice.username.as_str()),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    // (`/api/history`, which only the hydrated page calls, takes JSON.)
    let signed_out = client
        .post(server.url("/api/history"))
        .json(&serde_json::json!({"id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    let not_yours = client
        .post(server.url("/api/history"))
        .header(COOKIE, format!("natter_session={}", alice.token))
        .json(&serde_json::json!({"id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_yours.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        not_yours.json::<Value>().await.unwrap()["code"],
        "not_found"
    );
    // A plain form post (a page without JavaScript) still goes back to its
    // page, with the error for the page to show.
    let form = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.url("/api/login"))
        .header(ACCEPT, "text/html")
        .header("referer", server.url("/login"))
        .form(&[
            ("username", alice.username.as_str()),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FOUND);
    let location = form.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("/login") && location.contains("__err"),
        "{location}"
    );
}

#[tokio::test]
async fn pages_and_answers_are_compressed_for_clients_that_accept_it_and_the_websocket_is_not() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let cookie = format!("natter_session={}", alice.token);
    let client = reqwest::Client::new();
    let page = |encoding: &'static str| {
        client
            .get(server.url("/"))
            .header(ACCEPT, "text/html")
            .header(ACCEPT_ENCODING, encoding)
            .header(COOKIE, &cookie)
            .send()
    };
    let plain = page("identity").await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.unwrap();
    for encoding in ["br", "gzip"] {
        let compressed = page(encoding).await.unwrap();
        assert_eq!(compressed.status(), StatusCode::OK);
        assert_eq!(compressed.headers()[CONTENT_ENCODING], encoding);
        let bytes = compressed.bytes().await.unwrap();
        assert!(
            bytes.len() * 2 < plain.len(),
            "{encoding}: {} of {}",
            bytes.len(),
            plain.len()
        );
    }
    let bob = server.user("bob").await;
    server.conversation(&alice, &[&bob]).await;
    let inbox = client
        .get(server.url(&format!("/api/v1/chats/{}", alice.id)))
        .bearer_auth(&alice.token)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.headers()[CONTENT_ENCODING], "gzip");
    // Browsers send Accept-Encoding with the upgrade too; it stays a
    // WebSocket.
    let token = format!("Bearer {}", alice.token);
    let ws = crate::common::connect_ws(
        &server.base,
        &[
            ("authorization", token.as_str()),
            ("accept-encoding", "gzip, deflate, br"),
        ],
    )
    .await;
    assert!(
        ws.is_ok(),
        "the upgrade is refused: {:?}",
        ws.err().map(|e| e.status)
    );
}
