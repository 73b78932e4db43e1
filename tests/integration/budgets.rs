//! Every read path and every repeatable action has a budget per user (or per
//! client address): past it the answer is `rate_limited`, a WebSocket stays
//! open, and once the budget refills everything works again. The tests move
//! the budgets' clock forward instead of waiting for it.

use crate::common::{TestServer, TestUser, connect_ws, message_id};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// A budget of `n` a minute with a burst of `n`.
fn budget(n: u32) -> String {
    format!("{{ per-minute = {n}, burst = {n} }}")
}

async fn server_with(name: &str, n: u32) -> TestServer {
    TestServer::start_with(&[(name, &budget(n))]).await
}

fn a_minute_passes(server: &TestServer) {
    server.state.limits.clock().advance(Duration::from_secs(60));
}

async fn refused(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{what}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited", "{what}: {body}");
}

/// `n` requests pass, the next is refused, and after a minute one passes
/// again; only `user`'s own budget is spent.
async fn spends(server: &TestServer, user: &TestUser, other: &TestUser, n: u32, path: &str) {
    for k in 0..n {
        assert!(user.get(path).await.status().is_success(), "{path} #{k}");
    }
    refused(user.get(path).await, path).await;
    assert!(
        other
            .get(
                path.replace(&user.id.to_string(), &other.id.to_string())
                    .as_str()
            )
            .await
            .status()
            .is_success(),
        "someone else's budget is their own"
    );
    a_minute_passes(server);
    assert!(
        user.get(path).await.status().is_success(),
        "{path} after a minute"
    );
}

#[tokio::test]
async fn history_pages_inbox_pages_and_people_searches_each_have_a_budget() {
    for (setting, path) in [
        ("NATTER_HISTORY_BUDGET", "history"),
        ("NATTER_INBOX_BUDGET", "inbox"),
        ("NATTER_SEARCH_BUDGET", "search"),
    ] {
        let server = server_with(setting, 3).await;
        let alice = server.user("alice").await;
        let bob = server.user("bob").await;
        let chat = server.conversation(&alice, &[&bob]).await;
        let url = match path {
            "history" => format!("/api/v1/chat/{chat}"),
            "inbox" => format!("/api/v1/chats/{}", alice.id),
            _ => "/api/v1/users?q=bo".to_owned(),
        };
        spends(&server, &alice, &bob, 3, &url).await;
    }
}

#[tokio::test]
async fn starting_conversations_has_a_budget() {
    let server = server_with("NATTER_NEW_CONVERSATION_BUDGET", 2).await;
    let alice = server.user("alice").await;
    let people = [
        server.user("p1").await,
        server.user("p2").await,
        server.user("p3").await,
    ];
    let start = |with: &TestUser| json!({"participants": [with.id]});
    for person in &people[..2] {
        assert_eq!(
            alice
                .post("/api/v1/conversations", &start(person))
                .await
                .status(),
            201
        );
    }
    refused(
        alice
            .post("/api/v1/conversations", &start(&people[2]))
            .await,
        "a third conversation",
    )
    .await;
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM conversations")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 2, "nothing was made");
    a_minute_passes(&server);
    assert_eq!(
        alice
            .post("/api/v1/conversations", &start(&people[2]))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn read_markers_have_a_budget_and_the_connection_stays_open() {
    let server = server_with("NATTER_READ_MARKER_BUDGET", 2).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut bob_ws = bob.ws().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = message_id();
        bob_ws
            .send_and_ack(&bob.send_frame(chat, &id, &format!("m{n}")))
            .await;
        ids.push(id);
    }
    let mut alice_ws = alice.ws().await;
    let read = |id: &str| json!({"event": "conversation.read", "payload": {"conversation_id": chat, "message_id": id}});
    alice_ws.send_json(&read(&ids[0])).await;
    alice_ws.send_json(&read(&ids[1])).await;
    alice_ws.send_json(&read(&ids[2])).await;
    for left in [2, 1] {
        let moved = alice_ws.expect_event("conversation.read").await;
        assert_eq!(moved["unread_count"], left);
    }
    let refused = alice_ws.expect_error("rate_limited").await;
    assert_eq!(refused["payload"]["message_id"], ids[2].as_str());
    // Still open: a send goes through.
    alice_ws
        .send_and_ack(&alice.send_frame(chat, &message_id(), "still here"))
        .await;
    a_minute_passes(&server);
    // Taken again, not refused (her own message moved her marker past it
    // already, so nothing moves and nobody is told).
    alice_ws.send_json(&read(&ids[2])).await;
    alice_ws.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn opening_websockets_has_a_budget() {
    let server = server_with("NATTER_CONNECT_BUDGET", 2).await;
    let alice = server.user("alice").await;
    let _first = alice.ws().await;
    let _second = alice.ws().await;
    let auth = format!("Bearer {}", alice.token);
    let third = connect_ws(&server.base, &[("authorization", &auth)]).await;
    let refused = third.err().expect("a third socket is refused");
    assert_eq!(refused.status, 429);
    assert!(refused.body.contains("rate_limited"), "{}", refused.body);
    a_minute_passes(&server);
    connect_ws(&server.base, &[("authorization", &auth)])
        .await
        .map_err(|e| e.status)
        .expect("after a minute it connects");
}

#[tokio::test]
async fn an_address_guessing_tokens_is_refused_before_any_token_is_looked_up() {
    let server = server_with("NATTER_UNKNOWN_TOKEN_BUDGET", 3).await;
    let alice = server.user("alice").await;
    let guess = |token: &str| {
        reqwest::Client::new()
            .get(server.url("/api/v1/me"))
            .bearer_auth(token.to_owned())
            .send()
    };
    // The budget spent, plus the one that empties it.
    for n in 0..4 {
        assert_eq!(guess(&format!("guess{n}")).await.unwrap().status(), 401);
    }
    // Now even the right token is refused from this address: a guesser
    // cannot tell a hit.
    refused(
        guess(&alice.token).await.unwrap(),
        "a valid token after guessing",
    )
    .await;
    a_minute_passes(&server);
    assert_eq!(guess(&alice.token).await.unwrap().status(), 200);
}

#[tokio::test]
async fn an_account_whose_password_is_being_guessed_refuses_log_ins_for_a_while() {
    let server = server_with("NATTER_FAILED_LOGIN_BUDGET", 3).await;
    let alice = server.user("alice").await;
    let login = |password: &str| {
        reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"username": alice.username, "password": password}))
            .send()
    };
    for n in 0..4 {
        assert_eq!(login(&format!("wrong{n}")).await.unwrap().status(), 401);
    }
    refused(
        login("correct horse").await.unwrap(),
        "the right password, now",
    )
    .await;
    // Someone else's account is not affected.
    let bob = server.user("bob").await;
    let bob_login = reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": bob.username, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bob_login.status(), 200);
    a_minute_passes(&server);
    assert_eq!(login("correct horse").await.unwrap().status(), 200);
}
