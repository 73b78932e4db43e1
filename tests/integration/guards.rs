//! The guards in front of every request: security headers, cross-site
//! refusal for cookie-authenticated writes, per-address limits on account
//! attempts, and the request-size cap.

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_a_nonce_policy() {
    let server = TestServer::start().await;
    let api = reqwest::get(server.url("/api/v1/me")).await.unwrap();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(api.headers()[name], value, "{name}");
    }
    let page = reqwest::Client::new()
        .get(server.url("/login"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the policy names a nonce");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries it"
    );
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
}

#[tokio::test]
async fn a_cross_site_post_with_the_session_cookie_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let cookie = format!("natter_session={}", alice.token);
    let body = json!({"participants": [bob.id]});
    let forged = reqwest::Client::new()
        .post(server.url("/api/v1/conversations"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let fetch_metadata = reqwest::Client::new()
        .post(server.url("/api/v1/auth/logout"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), StatusCode::FORBIDDEN);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert_eq!(
        alice.get("/api/v1/me").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    // The same request from our own page, or with a bearer token, works.
    let own = reqwest::Client::new()
        .post(server.url("/api/v1/conversations"))
        .header("cookie", &cookie)
        .header("origin", &server.base)
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CREATED);
    let bearer = reqwest::Client::new()
        .post(server.url("/api/v1/conversations"))
        .bearer_auth(&alice.token)
        .header("origin", "https://elsewhere.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
}

#[tokio::test]
async fn too_many_log_in_attempts_from_one_address_get_429_and_nothing_else_is_limited() {
    let server = TestServer::start_with(&[("NATTER_AUTH_ATTEMPTS_PER_MINUTE", "5")]).await;
    server.register("carol", "password1").await;
    let attempt = || async {
        reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"username": "carol", "password": "wrong-password"}))
            .send()
            .await
            .unwrap()
    };
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(attempt().await.status());
    }
    // The registration used one of the five.
    assert_eq!(statuses[..4], [StatusCode::UNAUTHORIZED; 4], "{statuses:?}");
    assert!(
        statuses[4..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let limited = attempt().await;
    assert!(limited.headers().contains_key("retry-after"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Other endpoints are not affected.
    let me = reqwest::get(server.url("/api/v1/me")).await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = TestServer::start().await;
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"username":"dave","password":"{}"}}"#,
            "x".repeat(100_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.user_count().await, 0);
}

#[tokio::test]
async fn a_user_sending_past_the_limit_gets_rate_limited_and_the_connection_stays_open() {
    let server =
        TestServer::start_with(&[("NATTER_SENDS_PER_SECOND", "2"), ("NATTER_SEND_BURST", "5")])
            .await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let mut acked = 0;
    let mut limited = Vec::new();
    for n in 0..12 {
        let id = crate::common::message_id();
        ws.send_json(&alice.send_frame(conversation, &id, &format!("burst {n}")))
            .await;
        let reply = ws.recv().await;
        match reply["event"].as_str() {
            Some("message.ack") => acked += 1,
            Some("error") => {
                assert_eq!(reply["payload"]["code"], "rate_limited", "{reply}");
                assert_eq!(reply["payload"]["message_id"], id);
                limited.push(id);
            }
            _ => panic!("unexpected {reply}"),
        }
    }
    assert!(
        (5..=7).contains(&acked),
        "the burst passes, then the rate: {acked}"
    );
    assert!(!limited.is_empty());
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(stored, acked, "a refused message is not stored");
    // A moment later the same connection sends again, the refused id too.
    server
        .state
        .limits
        .clock()
        .advance(std::time::Duration::from_millis(1100));
    let retry = alice.send_frame(conversation, &limited[0], "burst again");
    ws.send_and_ack(&retry).await;
    // Others are not slowed by alice's limit.
    let mut bob_ws = bob.ws().await;
    for _ in 0..5 {
        let id = crate::common::message_id();
        bob_ws
            .send_and_ack(&bob.send_frame(conversation, &id, "bob is fine"))
            .await;
    }
}

#[tokio::test]
async fn an_unknown_path_is_the_apps_404_page() {
    let server = TestServer::start().await;
    let response = reqwest::Client::new()
        .get(server.url("/no/such/page"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("'nonce-")
    );
    assert!(response.text().await.unwrap().contains("Not found"));
}

/// What a forged request could change: accounts, sessions, conversations,
/// memberships, messages, blocks.
async fn footprint(server: &TestServer) -> Vec<i64> {
    let mut counts = Vec::new();
    for query in [
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM sessions",
        "SELECT count(*) FROM conversations",
        "SELECT count(*) FROM participants WHERE left_at IS NULL",
        "SELECT count(*) FROM messages",
        "SELECT count(*) FROM blocks",
    ] {
        counts.push(
            sqlx::query_scalar(query)
                .fetch_one(&server.db)
                .await
                .unwrap(),
        );
    }
    counts
}

#[tokio::test]
async fn every_cross_site_write_is_refused_signed_in_or_not_and_changes_nothing() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let direct = server.conversation(&alice, &[&bob]).await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let before = footprint(&server).await;
    let cookie = format!("natter_session={}", alice.token);
    let (d, g, b) = (direct.to_string(), group.to_string(), bob.id.to_string());
    // A form another site's page could post, with and without the cookie
    // (log-in CSRF signs the victim into the attacker's account).
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/api/login",
            vec![("username", &bob.username), ("password", "correct horse")],
        ),
        (
            "/api/register",
            vec![("username", "mallory_csrf"), ("password", "correct horse")],
        ),
        (
            "/api/send",
            vec![
                ("conversation_id", &d),
                ("message_id", "msg_csrf1"),
                ("content", "forged"),
            ],
        ),
        ("/api/start", vec![("participants[]", &b), ("title", "")]),
        ("/api/leave", vec![("conversation_id", &g)]),
        (
            "/api/block",
            vec![("user_id", &b), ("block", "true"), ("conversation_id", &d)],
        ),
        ("/api/logout", vec![]),
    ];
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, fields) in &forms {
        for with_cookie in [true, false] {
            for (name, value) in [
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ] {
                let mut request = client
                    .post(server.url(path))
                    .header(name, value)
                    .form(fields);
                if with_cookie {
                    request = request.header("cookie", &cookie);
                }
                let response = request.send().await.unwrap();
                assert_eq!(
                    response.status(),
                    StatusCode::FORBIDDEN,
                    "{path} {name} cookie={with_cookie}"
                );
                assert!(response.headers().get("set-cookie").is_none(), "{path}");
            }
        }
    }
    for (path, body) in [
        (
            "/api/v1/auth/login",
            json!({"username": bob.username, "password": "correct horse"}),
        ),
        (
            "/api/v1/auth/register",
            json!({"username": "mallory_csrf2", "password": "correct horse"}),
        ),
        ("/api/v1/conversations", json!({"participants": [carol.id]})),
    ] {
        let response = client
            .post(server.url(path))
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(footprint(&server).await, before, "nothing changed");
    assert_eq!(alice.get("/api/v1/me").await.status(), StatusCode::OK);

    // From our own page, or from a program (no browser headers), log-in
    // works as ever.
    let own = client
        .post(server.url("/api/login"))
        .header("origin", &server.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("username", bob.username.as_str()),
            ("password", "correct horse"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        own.headers().get("set-cookie").is_some(),
        "{}",
        own.status()
    );
    let program = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": bob.username, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(program.status(), StatusCode::OK);
}

/// `n` log-ins with a wrong password at once: their statuses and bodies.
async fn logins_at_once(server: &TestServer, username: &str, n: usize) -> Vec<(StatusCode, Value)> {
    let attempts = (0..n).map(|_| async {
        let response = reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": "not the password"}))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    });
    futures::future::join_all(attempts).await
}

#[tokio::test]
async fn password_hashing_waits_in_a_bounded_queue_and_past_it_log_ins_are_refused_at_once() {
    let server = TestServer::start_with(&[
        ("NATTER_PASSWORD_HASH_WORKERS", "1"),
        ("NATTER_PASSWORD_HASH_QUEUE", "2"),
    ])
    .await;
    let carol = server.user("carol").await;
    let answers = logins_at_once(&server, &carol.username, 12).await;
    let refused = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    for (status, body) in &answers {
        match *status {
            StatusCode::UNAUTHORIZED => assert_eq!(body["code"], "unauthorized"),
            StatusCode::TOO_MANY_REQUESTS => assert_eq!(body["code"], "rate_limited", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    // One hashing, two waiting: of twelve at once, most are turned away.
    assert!(refused >= 6, "{answers:?}");
    // Nothing is stuck: the next one is checked as usual.
    let later = logins_at_once(&server, &carol.username, 1).await;
    assert_eq!(later[0].0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_log_in_that_waits_too_long_for_its_turn_is_unavailable() {
    let server = TestServer::start_with(&[
        ("NATTER_PASSWORD_HASH_WORKERS", "1"),
        ("NATTER_PASSWORD_HASH_WAIT_MS", "1"),
    ])
    .await;
    let carol = server.user("carol").await;
    let answers = logins_at_once(&server, &carol.username, 6).await;
    let unavailable: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!unavailable.is_empty(), "{answers:?}");
    for (_, body) in unavailable {
        assert_eq!(body["code"], "unavailable");
    }
}
