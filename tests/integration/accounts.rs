//! Accounts and sessions over the real HTTP API and a real PostgreSQL.

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(server: &TestServer, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn register_answers_201_with_the_user_a_token_and_a_session_cookie() {
    let server = TestServer::start().await;
    let response = post(
        &server,
        "/api/v1/auth/register",
        json!({"username": "alice", "password": "password1"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert!(body["user_id"].as_str().unwrap().starts_with("user_"));
    let token = body["token"].as_str().unwrap();
    assert!(
        cookie.starts_with(&format!("natter_session={token};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(cookie.contains("Path=/"), "{cookie}");
}

#[tokio::test]
async fn a_taken_name_is_409_and_stores_nothing() {
    let server = TestServer::start().await;
    server.register("bob", "password1").await;
    let response = post(
        &server,
        "/api/v1/auth/register",
        json!({"username": "bob", "password": "other-password"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "conflict");
    assert_eq!(body["field"], "username");
    assert_eq!(server.user_count().await, 1);
}

#[tokio::test]
async fn bad_names_and_short_passwords_are_400_naming_the_field_and_store_nothing() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({"username": "ab", "password": "password1"}),
            "username",
        ),
        (
            json!({"username": "Alice", "password": "password1"}),
            "username",
        ),
        (
            json!({"username": "al ice", "password": "password1"}),
            "username",
        ),
        (
            json!({"username": "a".repeat(33), "password": "password1"}),
            "username",
        ),
        (
            json!({"username": "alice", "password": "short"}),
            "password",
        ),
        (json!({"password": "password1"}), "username"),
        (json!({"username": "alice"}), "password"),
    ];
    for (body, field) in cases {
        let response = post(&server, "/api/v1/auth/register", body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(response.headers().get("set-cookie").is_none());
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{body} -> {error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(server.user_count().await, 0);
}

#[tokio::test]
async fn login_is_200_with_a_new_session_and_401_with_one_message_for_both_mistakes() {
    let server = TestServer::start().await;
    let carol = server.register("carol", "password1").await;
    let ok = post(
        &server,
        "/api/v1/auth/login",
        json!({"username": "carol", "password": "password1"}),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(
        ok.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("natter_session=")
    );
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["user_id"], carol.id.to_string());
    assert_ne!(body["token"], carol.token, "each login is its own session");

    let wrong_password = post(
        &server,
        "/api/v1/auth/login",
        json!({"username": "carol", "password": "password2"}),
    )
    .await;
    let wrong_name = post(
        &server,
        "/api/v1/auth/login",
        json!({"username": "nobody", "password": "password1"}),
    )
    .await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_name.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong_password.headers().get("set-cookie").is_none());
    let a: Value = wrong_password.json().await.unwrap();
    let b: Value = wrong_name.json().await.unwrap();
    assert_eq!(
        a, b,
        "the same answer for a wrong name and a wrong password"
    );
}

#[tokio::test]
async fn me_is_200_with_a_session_and_401_without() {
    let server = TestServer::start().await;
    let dave = server.register("dave", "password1").await;
    let response = dave.get("/api/v1/me").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"user_id": dave.id, "username": "dave"}));

    let anonymous = reqwest::get(server.url("/api/v1/me")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    let forged = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .bearer_auth("not-a-session")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_cookie_and_the_bearer_token_are_one_session_and_logout_ends_both() {
    let server = TestServer::start().await;
    let erin = server.register("erin", "password1").await;
    let with_cookie = |path: &str| {
        reqwest::Client::new()
            .get(server.url(path))
            .header("cookie", format!("natter_session={}", erin.token))
            .send()
    };
    assert_eq!(
        with_cookie("/api/v1/me").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(erin.get("/api/v1/me").await.status(), StatusCode::OK);

    let logout = reqwest::Client::new()
        .post(server.url("/api/v1/auth/logout"))
        .header("cookie", format!("natter_session={}", erin.token))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        with_cookie("/api/v1/me").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        erin.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_by_bearer_token_ends_the_cookie_session_too() {
    let server = TestServer::start().await;
    let fay = server.register("fay", "password1").await;
    let logout = reqwest::Client::new()
        .post(server.url("/api/v1/auth/logout"))
        .bearer_auth(&fay.token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let me = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .header("cookie", format!("natter_session={}", fay.token))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn users_are_found_by_name_prefix_signed_in_only() {
    let server = TestServer::start().await;
    let searcher = server.register("zed", "password1").await;
    for name in ["sam", "samantha", "sammy", "sa_m", "tom"] {
        server.register(name, "password1").await;
    }
    let names = |body: Value| -> Vec<String> {
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    let found: Value = searcher
        .get("/api/v1/users?q=sam")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(found.clone()), ["sam", "samantha", "sammy"]);
    assert!(
        found["users"][0]["user_id"]
            .as_str()
            .unwrap()
            .starts_with("user_")
    );
    // `_` is a literal, not a LIKE wildcard.
    let found: Value = searcher
        .get("/api/v1/users?q=sa_")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(found), ["sa_m"]);
    let found: Value = searcher
        .get("/api/v1/users?q=SAM")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(found).len(), 3, "search ignores case");
    let found: Value = searcher
        .get("/api/v1/users?q=nobody")
        .await
        .json()
        .await
        .unwrap();
    assert!(names(found).is_empty());
    for n in 0..25 {
        server.register(&format!("many_{n:02}"), "password1").await;
    }
    let found: Value = searcher
        .get("/api/v1/users?q=many")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(found).len(), 20, "at most 20");
    let anonymous = reqwest::get(server.url("/api/v1/users?q=sam"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes_never_as_themselves() {
    let server = TestServer::start().await;
    server.register("gus", "hunter2-hunter2").await;
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM users WHERE username = 'gus'")
            .fetch_one(&server.db)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("hunter2"));
    let tokens: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&server.db)
        .await
        .unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].len(), 32, "only the token's SHA-256 is stored");
}

#[tokio::test]
async fn a_search_for_characters_no_name_holds_finds_nobody_instead_of_failing() {
    let server = TestServer::start().await;
    let searcher = server.register("yan", "password1").await;
    server.register("sam", "password1").await;
    for q in ["%00", "s%00", "%E2%9C%93", "s%25", "a%5C"] {
        let response = searcher.get(&format!("/api/v1/users?q={q}")).await;
        assert_eq!(response.status(), StatusCode::OK, "q={q}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["users"], json!([]), "q={q}");
    }
}
