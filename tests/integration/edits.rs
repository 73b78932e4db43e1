//! Edits and deletions (and any action retried) over a real WebSocket
//! against a real PostgreSQL, and the plain forms that reply, delete and
//! react without JavaScript.

use crate::actions::{QUIET, acked, action_id, delete, edit, find, history, react, say};
use crate::common::{TestServer, message_id};
use serde_json::{Value, json};

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

#[tokio::test]
async fn a_send_retried_after_its_message_was_edited_or_deleted_is_acked_not_doubled() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    let id = message_id();
    let frame = alice.send_frame(chat, &id, "first words");
    a.send_and_ack(&frame).await;
    b.expect_event("message.receive").await;
    acked(&mut a, &edit(&action_id(), chat, &id, "better words")).await;
    for ws in [&mut a, &mut b] {
        ws.expect_event("message.edited").await;
    }

    // The first send arrives again (its ack was lost with a connection).
    let mut again = alice.ws().await;
    let ack = again.send_and_ack(&frame).await;
    assert_eq!(ack["payload"]["timestamp"], frame["payload"]["timestamp"]);
    b.expect_silence(QUIET).await;
    assert_eq!(server.message_count().await, 1);
    assert_eq!(
        find(&history(&bob, chat).await, &id)["content"],
        "better words"
    );

    acked(&mut a, &delete(&action_id(), chat, &id)).await;
    for ws in [&mut a, &mut b, &mut again] {
        ws.expect_event("message.deleted").await;
    }
    again.send_and_ack(&frame).await;
    b.expect_silence(QUIET).await;
    assert_eq!(server.message_count().await, 1);
    assert_eq!(find(&history(&bob, chat).await, &id)["deleted"], true);
}
