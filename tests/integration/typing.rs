//! `typing` and `typing.stop`: never stored, to every connection of the
//! conversation's other members (never the typist's own), within a budget,
//! refused where one may not send.

use crate::common::{TestServer, TestUser, WsClient};
use serde_json::{Value, json};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

fn typing(conversation: impl std::fmt::Display) -> Value {
    json!({"event": "typing", "payload": {"conversation_id": conversation.to_string()}})
}

fn stop(conversation: impl std::fmt::Display) -> Value {
    json!({"event": "typing.stop", "payload": {"conversation_id": conversation.to_string()}})
}

/// The next frame on `ws` is `event` from `user` in `conversation`.
async fn hears(
    ws: &mut WsClient,
    event: &str,
    conversation: impl std::fmt::Display,
    user: &TestUser,
) {
    let payload = ws.expect_event(event).await;
    assert_eq!(
        payload,
        json!({"conversation_id": conversation.to_string(), "user_id": user.id})
    );
}

async fn messages_and_markers(server: &TestServer) -> (i64, i64) {
    let messages = server.message_count().await;
    let marked: i64 = sqlx::query_scalar("SELECT count(*) FROM participants WHERE read_seq > 0")
        .fetch_one(&server.db)
        .await
        .unwrap();
    (messages, marked)
}

#[tokio::test]
async fn typing_reaches_every_tab_of_the_others_and_none_of_the_typists() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut alice_tab = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let mut bob_phone = bob.ws().await;
    let mut carol_ws = carol.ws().await;
    let mut outsider = dave.ws().await;
    let before = messages_and_markers(&server).await;

    alice_ws.send_json(&typing(group)).await;
    for ws in [&mut bob_ws, &mut bob_phone, &mut carol_ws] {
        hears(ws, "typing", group, &alice).await;
    }
    alice_ws.send_json(&stop(group)).await;
    for ws in [&mut bob_ws, &mut bob_phone, &mut carol_ws] {
        hears(ws, "typing.stop", group, &alice).await;
    }
    // Not to herself (this tab or another), not to anyone outside, and
    // nothing answered: a notice has no ack.
    alice_ws.expect_silence(QUIET).await;
    alice_tab.expect_silence(Duration::ZERO).await;
    outsider.expect_silence(Duration::ZERO).await;
    assert_eq!(
        messages_and_markers(&server).await,
        before,
        "nothing stored"
    );
}

#[tokio::test]
async fn typing_where_one_may_not_send_is_refused_and_goes_to_nobody() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let eve = server.user("eve").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut bob_ws = bob.ws().await;
    let mut eve_ws = eve.ws().await;
    let mut alice_ws = alice.ws().await;

    eve_ws.send_json(&typing(chat)).await;
    eve_ws.expect_error("forbidden").await;
    eve_ws
        .send_json(&typing(natter::protocol::ConversationId::new_v7()))
        .await;
    eve_ws.expect_error("not_found").await;
    eve_ws
        .send_json(&json!({"event": "typing", "payload": {"conversation_id": "conv_nope"}}))
        .await;
    eve_ws.expect_error("invalid_payload").await;

    let block = bob
        .client()
        .put(format!("{}/api/v1/users/{}/block", bob.base, alice.id))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert!(block.status().is_success());
    alice_ws.send_json(&typing(chat)).await;
    alice_ws.expect_error("forbidden").await;
    bob_ws.expect_silence(QUIET).await;
}

#[tokio::test]
async fn typing_has_a_budget_past_which_nobody_hears_and_the_connection_stays() {
    let server =
        TestServer::start_with(&[("NATTER_TYPING_BUDGET", "{ per-minute = 3, burst = 3 }")]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    for frame in [typing(chat), stop(chat), typing(chat)] {
        alice_ws.send_json(&frame).await;
    }
    hears(&mut bob_ws, "typing", chat, &alice).await;
    hears(&mut bob_ws, "typing.stop", chat, &alice).await;
    hears(&mut bob_ws, "typing", chat, &alice).await;
    alice_ws.send_json(&typing(chat)).await;
    let refused = alice_ws.expect_error("rate_limited").await;
    assert_eq!(
        refused["payload"]["message"],
        "too many typing notices; slow down"
    );
    bob_ws.expect_silence(QUIET).await;
    // Still open, and a minute later typing is heard again.
    alice_ws
        .send_and_ack(&alice.send_frame(chat, &crate::common::message_id(), "still here"))
        .await;
    bob_ws.expect_event("message.receive").await;
    server.state.limits.clock().advance(Duration::from_secs(60));
    alice_ws.send_json(&typing(chat)).await;
    hears(&mut bob_ws, "typing", chat, &alice).await;
}
