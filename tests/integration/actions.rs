//! Replies, reactions, edits and deletions over a real WebSocket against a
//! real PostgreSQL: each applied and heard by every member's connections,
//! idempotent on retry, refused (changing nothing) for those who may not,
//! and a deletion that really removes the text.

use crate::common::{TestServer, TestUser, WsClient, message_id};
use serde_json::{Value, json};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

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

fn find<'a>(page: &'a Value, id: &str) -> &'a Value {
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

#[tokio::test]
async fn an_edit_reaches_everyone_and_history_and_the_inbox_show_the_new_text() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let (mut a, mut a2, mut b) = (alice.ws().await, alice.ws().await, bob.ws().await);
    let m = say(&mut a, &alice, chat, "see you tmrw").await;
    for ws in [&mut a2, &mut b] {
        ws.expect_event("message.receive").await;
    }
    let change = acked(&mut a, &edit(&action_id(), chat, &m, "see you tomorrow")).await;
    for ws in [&mut a, &mut a2, &mut b] {
        let edited = ws.expect_event("message.edited").await;
        assert_eq!(edited["content"], "see you tomorrow");
        assert_eq!(edited["change"], change);
        assert!(edited["edited_at"].as_i64().unwrap() > 0);
    }
    let page = history(&bob, chat).await;
    assert_eq!(find(&page, &m)["content"], "see you tomorrow");
    assert!(find(&page, &m)["edited_at"].is_i64());
    assert_eq!(page["last_change"], change);
    let inbox: Value = bob
        .get(&format!("/api/v1/chats/{}", bob.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["chats"][0]["last_message"], "see you tomorrow");
    // The same text again changes nothing.
    assert_eq!(
        acked(&mut a, &edit(&action_id(), chat, &m, "see you tomorrow")).await,
        Value::Null
    );
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_deletion_removes_the_text_from_the_database_and_keeps_the_place() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    let m = say(&mut a, &alice, chat, "the secret is 4711").await;
    b.expect_event("message.receive").await;
    acked(&mut b, &react(true, &action_id(), chat, &m, "🔥")).await;
    for ws in [&mut a, &mut b] {
        ws.expect_event("reaction.added").await;
    }

    let change = acked(&mut a, &delete(&action_id(), chat, &m)).await;
    for ws in [&mut a, &mut b] {
        assert_eq!(
            ws.expect_event("message.deleted").await,
            json!({"conversation_id": chat.to_string(), "message_id": m, "change": change})
        );
    }
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE content LIKE '%4711%'")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "the text is gone from the table");
    let (content, deleted): (Option<String>, bool) = sqlx::query_as(
        "SELECT content, deleted_at IS NOT NULL FROM messages WHERE message_id = $1",
    )
    .bind(&m)
    .fetch_one(&server.db)
    .await
    .unwrap();
    assert_eq!((content, deleted), (None, true));
    let reactions: i64 = sqlx::query_scalar("SELECT count(*) FROM reactions")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(reactions, 0, "its reactions went with it");

    let page = history(&bob, chat).await;
    assert_eq!(find(&page, &m)["content"], Value::Null);
    assert_eq!(find(&page, &m)["deleted"], true);
    assert!(find(&page, &m).get("reactions").is_none());
    let inbox: Value = bob
        .get(&format!("/api/v1/chats/{}", bob.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            inbox["chats"][0]["last_message"].clone(),
            inbox["chats"][0]["last_message_id"].clone()
        ),
        (Value::Null, json!(m))
    );

    // Gone for good: no edit, no reaction; deleting again is a no-op.
    a.send_json(&edit(&action_id(), chat, &m, "back?")).await;
    assert_eq!(
        a.expect_error("conflict").await["payload"]["message"],
        "this message was deleted"
    );
    b.send_json(&react(true, &action_id(), chat, &m, "👍"))
        .await;
    b.expect_error("conflict").await;
    assert_eq!(
        acked(&mut a, &delete(&action_id(), chat, &m)).await,
        Value::Null
    );
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_retried_action_is_acked_again_and_never_applied_twice() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    let m = say(&mut a, &alice, chat, "retry me").await;
    let other = say(&mut a, &alice, chat, "another").await;
    for _ in 0..2 {
        b.expect_event("message.receive").await;
    }
    let add = react(true, &action_id(), chat, &m, "👍");
    let first = acked(&mut b, &add).await;
    b.expect_event("reaction.added").await;
    a.expect_event("reaction.added").await;
    acked(&mut b, &react(false, &action_id(), chat, &m, "👍")).await;
    b.expect_event("reaction.removed").await;
    a.expect_event("reaction.removed").await;

    // The first add arrives again (a lost ack, a resend after reconnect):
    // answered as then, and the reaction stays removed.
    let mut b2 = bob.ws().await;
    assert_eq!(acked(&mut b2, &add).await, first);
    a.expect_silence(QUIET).await;
    assert!(
        find(&history(&alice, chat).await, &m)
            .get("reactions")
            .is_none()
    );

    // An edit retried after another edit does not bring its text back.
    let fix = edit(&action_id(), chat, &m, "first fix");
    let fixed = acked(&mut a, &fix).await;
    a.expect_event("message.edited").await;
    acked(&mut a, &edit(&action_id(), chat, &m, "second fix")).await;
    a.expect_event("message.edited").await;
    assert_eq!(acked(&mut a, &fix).await, fixed);
    a.expect_silence(QUIET).await;
    assert_eq!(
        find(&history(&alice, chat).await, &m)["content"],
        "second fix"
    );

    // The same action_id for something else is a clash.
    let mut clash = fix.clone();
    clash["payload"]["message_id"] = json!(other);
    a.send_json(&clash).await;
    let error = a.expect_error("conflict").await;
    assert_eq!(
        error["payload"]["message"],
        "this action_id is already used by a different action; use a new id"
    );
    assert_eq!(
        find(&history(&alice, chat).await, &other)["content"],
        "another"
    );
}

#[tokio::test]
async fn forms_reply_delete_and_react_without_javascript() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut b = bob.ws().await;
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let (url, token) = (server.url(path), alice.token.clone());
        let page = server.url(&format!("/c/{chat}"));
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(url)
                .header("cookie", format!("natter_session={token}"))
                .header("accept", "text/html")
                .header("referer", page)
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let original = say(&mut bob.ws().await, &bob, chat, "plain forms?").await;
    b.expect_event("message.receive").await;
    let reply = message_id();
    let sent = post(
        "/api/send",
        vec![
            ("conversation_id", chat.to_string()),
            ("message_id", reply.clone()),
            ("content", "yes, plain forms".into()),
            ("reply_to", original.clone()),
        ],
    )
    .await;
    assert_eq!(sent.status(), 302);
    assert_eq!(
        b.expect_event("message.receive").await["reply"]["message_id"],
        json!(original)
    );

    let react_form = post(
        "/api/react",
        vec![
            ("conversation_id", chat.to_string()),
            ("message_id", original.clone()),
            ("action_id", action_id()),
            ("reaction", "+🎉".into()),
        ],
    )
    .await;
    assert_eq!(react_form.status(), 302);
    assert_eq!(b.expect_event("reaction.added").await["emoji"], "🎉");

    let delete_action = action_id();
    for _ in 0..2 {
        // Posted twice (a double click): deleted once.
        let deleted = post(
            "/api/delete",
            vec![
                ("conversation_id", chat.to_string()),
                ("message_id", reply.clone()),
                ("action_id", delete_action.clone()),
            ],
        )
        .await;
        assert_eq!(deleted.status(), 302);
        assert!(
            deleted.headers()["location"]
                .to_str()
                .unwrap()
                .ends_with(&format!("/c/{chat}"))
        );
    }
    b.expect_event("message.deleted").await;
    b.expect_silence(QUIET).await;
    assert_eq!(find(&history(&bob, chat).await, &reply)["deleted"], true);
    // Someone else's message: refused, back to the page with the reason.
    let refused = post(
        "/api/delete",
        vec![
            ("conversation_id", chat.to_string()),
            ("message_id", original.clone()),
            ("action_id", action_id()),
        ],
    )
    .await;
    assert_eq!(refused.status(), 302);
    let back = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.contains(&format!("/c/{chat}")) && back.contains("__err="),
        "{back}"
    );
    assert_eq!(
        find(&history(&bob, chat).await, &original)["content"],
        "plain forms?"
    );
}
