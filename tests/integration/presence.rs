//! Presence (online, last seen) and the delivered and read markers behind
//! the ticks: who may follow whom, the grace before going offline, the one
//! stored last-seen time, markers that never move back and reach every
//! member, on one node and across two.

use crate::common::node::Node;
use crate::common::{
    TestServer, TestUser, WsClient, conversation, fresh_database_url, message_id, now_ms,
};
use serde_json::{Value, json};
use std::time::Duration;

const GRACE: (&str, &str) = ("NATTER_PRESENCE_GRACE_MS", "300");
const QUIET: Duration = Duration::from_millis(200);

fn follow(people: &[&TestUser]) -> Value {
    let ids: Vec<String> = people.iter().map(|u| u.id.to_string()).collect();
    json!({"event": "presence.subscribe", "payload": {"user_ids": ids}})
}

fn marker(event: &str, conversation: impl std::fmt::Display, message: &str) -> Value {
    json!({"event": event, "payload": {"conversation_id": conversation.to_string(),
                                        "message_id": message}})
}

fn moved(conversation: impl std::fmt::Display, user: &TestUser, message: &str) -> Value {
    json!({"conversation_id": conversation.to_string(), "user_id": user.id,
           "message_id": message})
}

/// A read marker's move, with what it leaves unread for its reader.
fn read_to(
    conversation: impl std::fmt::Display,
    user: &TestUser,
    message: &str,
    unread: i64,
) -> Value {
    let mut payload = moved(conversation, user, message);
    payload["unread_count"] = json!(unread);
    payload
}

async fn last_seen_stored(server: &TestServer, user: &TestUser) -> Option<i64> {
    sqlx::query_scalar(
        "SELECT (extract(epoch FROM last_seen_at) * 1000)::int8 FROM users WHERE id = $1",
    )
    .bind(user.id)
    .fetch_one(&server.db)
    .await
    .unwrap()
}

/// Sends `text` from `ws` and returns its id once acknowledged.
async fn said(
    ws: &mut WsClient,
    user: &TestUser,
    conversation: impl std::fmt::Display,
    text: &str,
) -> String {
    let id = message_id();
    let frame = json!({"event": "message.send", "payload": {
        "conversation_id": conversation.to_string(), "sender_id": user.id,
        "message_id": id, "content": text, "timestamp": now_ms()}});
    ws.send_and_ack(&frame).await;
    id
}

#[tokio::test]
async fn a_follower_sees_someone_come_and_go_after_the_grace_with_last_seen_stored_once() {
    let server = TestServer::start_with(&[GRACE]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let eve = server.user("eve").await;
    server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;

    // Eve shares no conversation with Alice: left out of the answer, and
    // never followed.
    alice_ws.send_json(&follow(&[&bob, &eve])).await;
    assert_eq!(
        alice_ws.expect_event("presence.state").await,
        json!({"people": [{"user_id": bob.id, "online": false, "last_seen": null}]})
    );
    let _eve_ws = eve.ws().await;
    alice_ws.expect_silence(QUIET).await;

    let bob_ws = bob.ws().await;
    assert_eq!(
        alice_ws.expect_event("presence").await,
        json!({"user_id": bob.id, "online": true, "last_seen": null})
    );
    // A reload within the grace is no transition at all.
    drop(bob_ws);
    let bob_again = bob.ws().await;
    alice_ws.expect_silence(Duration::from_millis(700)).await;
    assert_eq!(last_seen_stored(&server, &bob).await, None);

    let before = now_ms();
    drop(bob_again);
    let gone = alice_ws.expect_event("presence").await;
    let after = now_ms();
    assert_eq!(gone["online"], false);
    let seen = gone["last_seen"].as_i64().expect("a last-seen time");
    assert!(
        (before - 5..=after).contains(&seen),
        "{seen} not in {before}..{after}"
    );
    assert!(now_ms() - before >= 300, "not before the grace");
    // Stored right after the followers are told.
    let mut stored = None;
    for _ in 0..100 {
        stored = last_seen_stored(&server, &bob).await;
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored, Some(seen));

    // A new follower gets it from the start, from the database.
    let mut alice_tab = alice.ws().await;
    alice_tab.send_json(&follow(&[&bob])).await;
    assert_eq!(
        alice_tab.expect_event("presence.state").await["people"][0],
        json!({"user_id": bob.id, "online": false, "last_seen": seen})
    );
}

#[tokio::test]
async fn following_has_a_size_limit_and_a_budget_and_the_connection_stays() {
    let server =
        TestServer::start_with(&[("NATTER_PRESENCE_BUDGET", "{ per-minute = 2, burst = 2 }")])
            .await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let many: Vec<String> = (0..501)
        .map(|_| natter::protocol::UserId::new_v7().to_string())
        .collect();
    ws.send_json(&json!({"event": "presence.subscribe", "payload": {"user_ids": many}}))
        .await;
    let error = ws.expect_error("invalid_payload").await;
    assert_eq!(error["payload"]["field"], "user_ids");
    for _ in 0..2 {
        ws.send_json(&follow(&[&bob])).await;
        ws.expect_event("presence.state").await;
    }
    ws.send_json(&follow(&[&bob])).await;
    let error = ws.expect_error("rate_limited").await;
    assert_eq!(
        error["payload"]["message"],
        "too many presence subscriptions; slow down"
    );
    // Still open: a message goes through.
    let chat = server.conversation(&alice, &[&bob]).await;
    said(&mut ws, &alice, chat, "still here").await;
}

#[tokio::test]
async fn markers_never_move_back_and_every_member_hears_when_they_move() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut carol_ws = carol.ws().await;
    let m1 = said(&mut alice_ws, &alice, group, "one").await;
    let m2 = said(&mut alice_ws, &alice, group, "two").await;
    carol_ws.expect_event("message.receive").await;
    carol_ws.expect_event("message.receive").await;
    let mut bob_ws = bob.ws().await;
    let mut bob_tab = bob.ws().await;

    bob_ws
        .send_json(&marker("conversation.delivered", group, &m2))
        .await;
    for ws in [&mut alice_ws, &mut carol_ws, &mut bob_tab] {
        assert_eq!(
            ws.expect_event("conversation.delivered").await,
            moved(group, &bob, &m2)
        );
    }
    bob_ws.expect_silence(QUIET).await;
    // Backwards, or the same again: nobody hears, nothing moves.
    bob_ws
        .send_json(&marker("conversation.delivered", group, &m1))
        .await;
    bob_ws
        .send_json(&marker("conversation.delivered", group, &m2))
        .await;
    alice_ws.expect_silence(QUIET).await;
    // Reading the first does not take delivery back; everyone hears it,
    // the reader too (one message is left unread).
    bob_ws
        .send_json(&marker("conversation.read", group, &m1))
        .await;
    for ws in [&mut alice_ws, &mut carol_ws, &mut bob_ws, &mut bob_tab] {
        assert_eq!(
            ws.expect_event("conversation.read").await,
            read_to(group, &bob, &m1, 1)
        );
    }
    let view: Value = bob
        .get(&format!("/api/v1/conversations/{group}"))
        .await
        .json()
        .await
        .unwrap();
    let markers = view["markers"].as_array().unwrap();
    let of = |user: &TestUser| {
        markers
            .iter()
            .find(|m| m["user_id"] == json!(user.id))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        of(&bob),
        json!({"user_id": bob.id, "delivered": m2, "read": m1})
    );
    assert_eq!(
        of(&alice),
        json!({"user_id": alice.id, "delivered": m2, "read": m2})
    );
    assert_eq!(
        of(&carol),
        json!({"user_id": carol.id, "delivered": null, "read": null})
    );

    // Carol reads up to the newest: that is delivery too.
    carol_ws
        .send_json(&marker("conversation.read", group, &m2))
        .await;
    for ws in [&mut alice_ws, &mut carol_ws] {
        assert_eq!(
            ws.expect_event("conversation.read").await,
            read_to(group, &carol, &m2, 0)
        );
    }
    // A message of no conversation of hers, or a chat she is not in.
    let other = server.conversation(&alice, &[&bob]).await;
    let elsewhere = said(&mut alice_ws, &alice, other, "just us").await;
    carol_ws
        .send_json(&marker("conversation.delivered", group, &elsewhere))
        .await;
    carol_ws.expect_error("not_found").await;
    carol_ws
        .send_json(&marker("conversation.delivered", other, &elsewhere))
        .await;
    carol_ws.expect_error("forbidden").await;
    let stored: (i64, i64) =
        sqlx::query_as("SELECT delivered_seq, read_seq FROM participants WHERE user_id = $1")
            .bind(carol.id)
            .fetch_one(&server.db)
            .await
            .unwrap();
    assert_eq!(stored, (2, 2));
}

#[tokio::test]
async fn presence_and_markers_reach_the_other_node() {
    let db_url = fresh_database_url().await;
    let a = Node::start(&[("DATABASE_URL", &db_url), GRACE]);
    let b = Node::start(&[("DATABASE_URL", &db_url), GRACE]);
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let chat = conversation(&alice, &[&bob], None).await;
    let mut alice_ws = alice.ws().await;
    alice_ws.send_json(&follow(&[&bob])).await;
    assert_eq!(
        alice_ws.expect_event("presence.state").await["people"][0]["online"],
        false
    );

    let mut bob_ws = bob.ws().await;
    assert_eq!(
        alice_ws.expect_event("presence").await,
        json!({"user_id": bob.id, "online": true, "last_seen": null})
    );
    let sent = said(&mut alice_ws, &alice, &chat, "across").await;
    assert_eq!(
        bob_ws.expect_event("message.receive").await["message_id"],
        sent
    );
    bob_ws
        .send_json(&marker("conversation.delivered", &chat, &sent))
        .await;
    assert_eq!(
        alice_ws.expect_event("conversation.delivered").await,
        moved(&chat, &bob, &sent)
    );
    bob_ws
        .send_json(&marker("conversation.read", &chat, &sent))
        .await;
    assert_eq!(
        alice_ws.expect_event("conversation.read").await,
        read_to(&chat, &bob, &sent, 0)
    );

    drop(bob_ws);
    let gone = alice_ws.expect_event("presence").await;
    assert_eq!(gone["user_id"], json!(bob.id));
    assert_eq!(gone["online"], false);
    assert!(gone["last_seen"].is_i64());
}
