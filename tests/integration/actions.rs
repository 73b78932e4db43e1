//! Replies, reactions, edits and deletions over a real WebSocket against a
//! real PostgreSQL: each applied and heard by every member's connections,
//! idempotent on retry, refused (changing nothing) for those who may not,
//! and a deletion that really removes the text.

use crate::common::{TestServer, TestUser, WsClient, message_id};
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) const QUIET: Duration = Duration::from_millis(300);

pub(crate) fn action_id() -> String {
    format!("act_{}", uuid::Uuid::now_v7().simple())
}

pub(crate) fn edit(action: &str, conversation: impl ToString, message: &str, text: &str) -> Value {
    json!({"event": "message.edit", "payload": {"action_id": action,
        "conversation_id": conversation.to_string(), "message_id": message, "content": text}})
}

pub(crate) fn delete(action: &str, conversation: impl ToString, message: &str) -> Value {
    json!({"event": "message.delete", "payload": {"action_id": action,
        "conversation_id": conversation.to_string(), "message_id": message}})
}

pub(crate) fn react(
    add: bool,
    action: &str,
    conversation: impl ToString,
    message: &str,
    emoji: &str,
) -> Value {
    let event = if add {
        "reaction.add"
    } else {
        "reaction.remove"
    };
    json!({"event": event, "payload": {"action_id": action,
        "conversation_id": conversation.to_string(), "message_id": message, "emoji": emoji}})
}

/// Sends an action and returns the `change` of its ack.
pub(crate) async fn acked(ws: &mut WsClient, frame: &Value) -> Value {
    ws.send_json(frame).await;
    let ack = ws.expect_event("action.ack").await;
    assert_eq!(ack["action_id"], frame["payload"]["action_id"], "{ack}");
    assert_eq!(ack["message_id"], frame["payload"]["message_id"], "{ack}");
    ack["change"].clone()
}

/// Sends a message and returns its id; the others' sockets get it.
pub(crate) async fn say(
    ws: &mut WsClient,
    me: &TestUser,
    conversation: impl ToString,
    text: &str,
) -> String {
    let id = message_id();
    let conversation = natter::protocol::ConversationId::parse(&conversation.to_string()).unwrap();
    ws.send_and_ack(&me.send_frame(conversation, &id, text))
        .await;
    id
}

pub(crate) async fn history(user: &TestUser, conversation: impl ToString) -> Value {
    let page = user
        .get(&format!("/api/v1/chat/{}", conversation.to_string()))
        .await;
    assert_eq!(page.status(), 200);
    page.json().await.unwrap()
}

pub(crate) fn find<'a>(page: &'a Value, id: &str) -> &'a Value {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_id"] == id)
        .unwrap()
}

#[tokio::test]
async fn a_reply_quotes_the_original_as_it_is_now() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    let original = say(&mut a, &alice, chat, "lunch at noon?").await;
    b.expect_event("message.receive").await;

    let reply = message_id();
    let mut frame = bob.send_frame(chat, &reply, "yes!");
    frame["payload"]["reply_to"] = json!(original);
    let ack = b.send_and_ack(&frame).await;
    assert!(ack["payload"]["change"].as_i64().unwrap() >= 2, "{ack}");
    let got = a.expect_event("message.receive").await;
    assert_eq!(got["reply_to"], original);
    assert_eq!(
        got["reply"],
        json!({"message_id": original, "sender_id": alice.id, "text": "lunch at noon?"})
    );

    // History quotes the original as it is now: edited, then deleted.
    acked(
        &mut a,
        &edit(&action_id(), chat, &original, "lunch at one?"),
    )
    .await;
    for ws in [&mut a, &mut b] {
        ws.expect_event("message.edited").await;
    }
    assert_eq!(
        find(&history(&bob, chat).await, &reply)["reply"]["text"],
        "lunch at one?"
    );
    acked(&mut a, &delete(&action_id(), chat, &original)).await;
    for ws in [&mut a, &mut b] {
        ws.expect_event("message.deleted").await;
    }
    let page = history(&bob, chat).await;
    assert_eq!(
        find(&page, &reply)["reply"],
        json!({"message_id": original, "sender_id": alice.id, "text": null})
    );

    // A reply to a message of another conversation is refused; nothing stored.
    let carol = server.user("carol").await;
    let other = server.conversation(&alice, &[&carol]).await;
    let elsewhere = say(&mut a, &alice, other, "hi carol").await;
    let before = server.message_count().await;
    let mut frame = bob.send_frame(chat, &message_id(), "wrong place");
    frame["payload"]["reply_to"] = json!(elsewhere);
    b.send_json(&frame).await;
    let error = b.expect_error("invalid_payload").await;
    assert_eq!(error["payload"]["field"], "reply_to");
    assert_eq!(
        error["payload"]["message"],
        "reply_to is not a message of this conversation"
    );
    assert_eq!(server.message_count().await, before);
}

#[tokio::test]
async fn reactions_count_once_per_person_and_every_member_hears_them() {
    let server = TestServer::start().await;
    let [alice, bob, carol] = [
        server.user("alice").await,
        server.user("bob").await,
        server.user("carol").await,
    ];
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let (mut a, mut b, mut c) = (alice.ws().await, bob.ws().await, carol.ws().await);
    let mut bob_phone = bob.ws().await;
    let m = say(&mut a, &alice, group, "who's in?").await;
    for ws in [&mut b, &mut c, &mut bob_phone] {
        ws.expect_event("message.receive").await;
    }

    let change = acked(&mut b, &react(true, &action_id(), group, &m, "👍")).await;
    let heard = json!({"conversation_id": group.to_string(), "message_id": m,
        "user_id": bob.id, "emoji": "👍", "change": change});
    for ws in [&mut a, &mut b, &mut c, &mut bob_phone] {
        assert_eq!(ws.expect_event("reaction.added").await, heard);
    }
    // The same again (a new action): nothing changes, nobody hears.
    assert_eq!(
        acked(&mut b, &react(true, &action_id(), group, &m, "👍")).await,
        Value::Null
    );
    acked(&mut c, &react(true, &action_id(), group, &m, "👍")).await;
    for ws in [&mut a, &mut b, &mut c] {
        ws.expect_event("reaction.added").await;
    }
    a.expect_silence(QUIET).await;

    let reactions = |page: Value| find(&page, &m)["reactions"].clone();
    assert_eq!(
        reactions(history(&alice, group).await),
        json!([{"emoji": "👍", "count": 2, "mine": false, "users": [bob.id, carol.id]}])
    );
    assert_eq!(reactions(history(&bob, group).await)[0]["mine"], true);

    let change = acked(&mut b, &react(false, &action_id(), group, &m, "👍")).await;
    for ws in [&mut a, &mut b, &mut c] {
        let removed = ws.expect_event("reaction.removed").await;
        assert_eq!(
            (removed["user_id"].clone(), removed["change"].clone()),
            (json!(bob.id), change.clone())
        );
    }
    assert_eq!(reactions(history(&alice, group).await)[0]["count"], 1);

    // Not an emoji: refused with the action's id, nothing stored.
    let bad = action_id();
    b.send_json(&react(true, &bad, group, &m, "ok")).await;
    let error = b.expect_error("invalid_payload").await;
    assert_eq!(
        (
            error["payload"]["field"].clone(),
            error["payload"]["action_id"].clone()
        ),
        (json!("emoji"), json!(bad))
    );
    assert!(error["payload"].get("message_id").is_none(), "{error}");
}

#[tokio::test]
async fn a_message_takes_at_most_twenty_different_reactions() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut a = alice.ws().await;
    let m = say(&mut a, &alice, chat, "react away").await;
    for emoji in &natter::protocol::REACTIONS[..20] {
        acked(&mut a, &react(true, &action_id(), chat, &m, emoji)).await;
        a.expect_event("reaction.added").await;
    }
    a.send_json(&react(true, &action_id(), chat, &m, "😡"))
        .await;
    let error = a.expect_error("conflict").await;
    assert_eq!(
        error["payload"]["message"],
        "a message takes at most 20 different reactions"
    );
    // One already there can still be given by someone else.
    let mut b = bob.ws().await;
    acked(&mut b, &react(true, &action_id(), chat, &m, "👍")).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reactions")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 21);
}

#[tokio::test]
async fn only_the_author_edits_or_deletes_and_a_stranger_does_nothing() {
    let server = TestServer::start().await;
    let [alice, bob, eve] = [
        server.user("alice").await,
        server.user("bob").await,
        server.user("eve").await,
    ];
    let chat = server.conversation(&alice, &[&bob]).await;
    let (mut a, mut b, mut e) = (alice.ws().await, bob.ws().await, eve.ws().await);
    let m = say(&mut a, &alice, chat, "mine").await;
    b.expect_event("message.receive").await;

    for frame in [
        edit(&action_id(), chat, &m, "bob's now"),
        delete(&action_id(), chat, &m),
    ] {
        b.send_json(&frame).await;
        let error = b.expect_error("forbidden").await;
        assert_eq!(
            error["payload"]["message"],
            "only the author can edit or delete a message"
        );
        assert_eq!(error["payload"]["action_id"], frame["payload"]["action_id"]);
    }
    for frame in [
        edit(&action_id(), chat, &m, "eve's"),
        delete(&action_id(), chat, &m),
        react(true, &action_id(), chat, &m, "👍"),
    ] {
        e.send_json(&frame).await;
        let error = e.expect_error("forbidden").await;
        assert_eq!(
            error["payload"]["message"],
            "you are not a participant of this conversation"
        );
    }
    a.send_json(&edit(&action_id(), chat, "msg_nope", "x"))
        .await;
    assert_eq!(
        a.expect_error("not_found").await["payload"]["message"],
        "no such message in this conversation"
    );
    a.send_json(&edit(
        &action_id(),
        "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
        &m,
        "x",
    ))
    .await;
    assert_eq!(
        a.expect_error("not_found").await["payload"]["message"],
        "no such conversation"
    );
    a.send_json(&edit(&action_id(), chat, &m, "   ")).await;
    assert_eq!(
        a.expect_error("invalid_payload").await["payload"]["field"],
        "content"
    );

    // None of it changed anything, nor told anyone.
    b.expect_silence(QUIET).await;
    let page = history(&alice, chat).await;
    assert_eq!(find(&page, &m)["content"], "mine");
    assert_eq!(find(&page, &m)["change"], 1);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM message_actions")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
