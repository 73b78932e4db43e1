//! `GET /api/v1/chats/:user_id`: the spec's JSON, most recent activity
//! first, a page at a time, unread counts and the `conversation.read`
//! marker, 401 / 403.

use crate::common::{TestServer, TestUser, WsClient, message_id, now_ms};
use natter::protocol::ConversationId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

/// The whole inbox of these small tests: one page, with nothing after it.
async fn inbox(user: &TestUser) -> Vec<Value> {
    let body = page(user, "").await;
    assert_eq!(body["next_cursor"], Value::Null, "one page holds it all");
    body["chats"].as_array().unwrap().clone()
}

/// `GET /api/v1/chats/:user_id` with this query.
async fn page(user: &TestUser, query: &str) -> Value {
    let response = user.get(&format!("/api/v1/chats/{}{query}", user.id)).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["chats", "next_cursor"]
    );
    body
}

fn order(chats: &[Value]) -> Vec<String> {
    chats
        .iter()
        .map(|c| c["conversation_id"].as_str().unwrap().to_owned())
        .collect()
}

fn unread(chats: &[Value], conversation: ConversationId) -> i64 {
    chats
        .iter()
        .find(|c| c["conversation_id"] == json!(conversation))
        .expect("the conversation is in the inbox")["unread_count"]
        .as_i64()
        .unwrap()
}

async fn send(
    ws: &mut WsClient,
    user: &TestUser,
    conversation: ConversationId,
    text: &str,
) -> String {
    let id = message_id();
    ws.send_json(&user.send_frame(conversation, &id, text))
        .await;
    loop {
        let frame = ws.recv().await;
        match frame["event"].as_str() {
            Some("message.receive") | Some("conversation.read") => continue,
            Some("message.ack") => {
                assert_eq!(frame["payload"]["message_id"], id);
                return id;
            }
            _ => panic!("{frame}"),
        }
    }
}

fn read_frame(conversation: ConversationId, message_id: &str) -> Value {
    json!({"event": "conversation.read",
           "payload": {"conversation_id": conversation, "message_id": message_id}})
}

/// What every connection of every member hears when `user`'s read marker
/// moved, `unread` messages before the newest.
fn marker_moved(
    conversation: ConversationId,
    user: &TestUser,
    message_id: &str,
    unread: i64,
) -> Value {
    json!({"event": "conversation.read",
           "payload": {"conversation_id": conversation, "user_id": user.id,
                       "message_id": message_id, "unread_count": unread}})
}

fn summary(user: &TestUser) -> Value {
    json!({"user_id": user.id, "username": user.username})
}

#[tokio::test]
async fn entries_are_exactly_the_specs_fields_and_the_web_uis_extras() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    assert!(inbox(&alice).await.is_empty(), "nobody to talk to yet");
    let before = now_ms();
    let direct = server.conversation(&alice, &[&bob]).await;
    let after = now_ms();
    let mut others = [&bob, &carol];
    others.sort_by(|a, b| a.username.cmp(&b.username));
    let group_body = alice
        .post(
            "/api/v1/conversations",
            &json!({"participants": [bob.id, carol.id], "title": "Trio"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let group = ConversationId::parse(group_body["conversation_id"].as_str().unwrap()).unwrap();

    // Both empty: the newest (the group) first; an empty chat's timestamp is
    // when it was made.
    let chats = inbox(&alice).await;
    assert_eq!(order(&chats), [group.to_string(), direct.to_string()]);
    let empty_direct = &chats[1];
    let created = empty_direct["timestamp"].as_i64().unwrap();
    assert!(
        (before - 1000..=after + 1000).contains(&created),
        "{created} not in {before}..{after}"
    );
    assert_eq!(
        *empty_direct,
        json!({
            "conversation_id": direct,
            "participant": bob.id,
            "last_message": null,
            "timestamp": created,
            "kind": "direct",
            "title": null,
            "participants": [summary(&bob)],
            "member_count": 2,
            "participant_name": bob.username,
            "last_sender_id": null,
            "last_sender_name": null,
            "last_message_id": null,
            "unread_count": 0,
            "muted": false,
        })
    );

    let mut bob_ws = bob.ws().await;
    let sent = bob.send_frame(group, &message_id(), "hello trio");
    bob_ws.send_and_ack(&sent).await;
    let chats = inbox(&alice).await;
    assert_eq!(
        chats[0],
        json!({
            "conversation_id": group,
            "participant": null,
            "last_message": "hello trio",
            "timestamp": sent["payload"]["timestamp"],
            "kind": "group",
            "title": "Trio",
            "participants": others.iter().map(|u| summary(u)).collect::<Vec<_>>(),
            "member_count": 3,
            "participant_name": null,
            "last_sender_id": bob.id,
            "last_sender_name": bob.username,
            "last_message_id": sent["payload"]["message_id"],
            "unread_count": 1,
            "muted": false,
        })
    );
    // Bob's own message is not unread for him.
    assert_eq!(unread(&inbox(&bob).await, group), 0);
}

#[tokio::test]
async fn the_inbox_follows_the_latest_activity_through_interleaved_sends() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let with_bob = server.conversation(&alice, &[&bob]).await;
    let with_carol = server.conversation(&carol, &[&alice]).await;
    let group = server.conversation(&dave, &[&alice, &bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let mut carol_ws = carol.ws().await;
    let mut dave_ws = dave.ws().await;

    assert_eq!(
        order(&inbox(&alice).await),
        [group, with_carol, with_bob].map(|c| c.to_string())
    );
    // Each send, by anyone in any of Alice's chats, brings that chat to the
    // top of her inbox, with its last message.
    let mut expect = vec![group, with_carol, with_bob];
    for (n, (who, conversation)) in [
        ("alice", with_bob),
        ("carol", with_carol),
        ("bob", group),
        ("alice", with_carol),
        ("bob", with_bob),
        ("dave", group),
        ("alice", with_bob),
    ]
    .into_iter()
    .enumerate()
    {
        let text = format!("step {n}");
        match who {
            "alice" => send(&mut alice_ws, &alice, conversation, &text).await,
            "bob" => send(&mut bob_ws, &bob, conversation, &text).await,
            "carol" => send(&mut carol_ws, &carol, conversation, &text).await,
            _ => send(&mut dave_ws, &dave, conversation, &text).await,
        };
        expect.retain(|c| *c != conversation);
        expect.insert(0, conversation);
        let chats = inbox(&alice).await;
        assert_eq!(
            order(&chats),
            expect.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "after step {n}"
        );
        assert_eq!(chats[0]["last_message"], text);
    }
    // A new, empty chat is the most recent activity of all.
    let with_dave = server.conversation(&dave, &[&alice]).await;
    assert_eq!(order(&inbox(&alice).await)[0], with_dave.to_string());
}

#[tokio::test]
async fn messages_stored_in_one_commit_keep_their_send_order_in_the_inbox() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let older = server.conversation(&alice, &[&bob]).await;
    let newer = server.conversation(&alice, &[&carol]).await;
    let holder = server.conversation(&alice, &[&dave]).await;
    let mut ws = alice.ws().await;

    // Hold the writer on a first batch (another transaction has its
    // conversation's row), so the next two sends queue up and are committed
    // together.
    let mut blocker = server.db.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(holder)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let ids: Vec<String> = (0..3).map(|_| message_id()).collect();
    ws.send_json(&alice.send_frame(holder, &ids[0], "first"))
        .await;
    ws.send_json(&alice.send_frame(newer, &ids[1], "second"))
        .await;
    ws.send_json(&alice.send_frame(older, &ids[2], "third"))
        .await;
    ws.expect_silence(QUIET).await;
    blocker.rollback().await.unwrap();
    for id in &ids {
        let ack = ws.expect_event("message.ack").await;
        assert_eq!(ack["message_id"], *id);
    }
    // The last message Alice sent is in `older`: that chat is on top.
    assert_eq!(
        order(&inbox(&alice).await),
        [older, newer, holder].map(|c| c.to_string())
    );
}

#[tokio::test]
async fn unread_counts_others_messages_after_the_read_marker_which_never_moves_back() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut bob_ws = bob.ws().await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(send(&mut bob_ws, &bob, conversation, &format!("b{n}")).await);
    }
    assert_eq!(unread(&inbox(&alice).await, conversation), 4);
    assert_eq!(unread(&inbox(&bob).await, conversation), 0);

    let mut reading_tab = alice.ws().await;
    let mut other_tab = alice.ws().await;
    let mut phone = alice.ws().await;
    // Alice reads up to the second: every tab of hers is told how many are
    // left (their badges say 2; the reading tab learns it too, as it may
    // show only part of the conversation) and so is Bob (his ticks turn).
    reading_tab
        .send_json(&read_frame(conversation, &ids[1]))
        .await;
    for tab in [&mut reading_tab, &mut other_tab, &mut phone, &mut bob_ws] {
        let event = tab.recv().await;
        assert_eq!(event, marker_moved(conversation, &alice, &ids[1], 2));
    }
    reading_tab.expect_silence(QUIET).await;
    assert_eq!(unread(&inbox(&alice).await, conversation), 2);

    // An older message does not move the marker back, and tells nobody.
    reading_tab
        .send_json(&read_frame(conversation, &ids[0]))
        .await;
    reading_tab.expect_silence(QUIET).await;
    other_tab.expect_silence(Duration::from_millis(50)).await;
    assert_eq!(unread(&inbox(&alice).await, conversation), 2);
    // Nor does the same one again.
    other_tab
        .send_json(&read_frame(conversation, &ids[1]))
        .await;
    reading_tab.expect_silence(QUIET).await;
    assert_eq!(unread(&inbox(&alice).await, conversation), 2);

    // A message that does not exist, or that belongs to another of her
    // chats, is not_found and changes nothing.
    let carol = server.user("carol").await;
    let elsewhere = server.conversation(&alice, &[&carol]).await;
    let other_id = send(&mut phone, &alice, elsewhere, "hi Carol").await;
    reading_tab.expect_event("message.receive").await;
    other_tab.expect_event("message.receive").await;
    for missing in ["msg_never_sent", other_id.as_str()] {
        reading_tab
            .send_json(&read_frame(conversation, missing))
            .await;
        let error = reading_tab.expect_error("not_found").await;
        assert_eq!(error["payload"]["message_id"], missing);
    }
    other_tab.expect_silence(Duration::from_millis(100)).await;
    assert_eq!(unread(&inbox(&alice).await, conversation), 2);

    // More from Bob counts; reading the newest clears it.
    ids.push(send(&mut bob_ws, &bob, conversation, "b4").await);
    assert_eq!(unread(&inbox(&alice).await, conversation), 3);
    phone.send_json(&read_frame(conversation, &ids[4])).await;
    // (The phone's own message.receive of b4 may come first.)
    let event = loop {
        let frame = other_tab.recv().await;
        if frame["event"] != "message.receive" {
            break frame;
        }
    };
    assert_eq!(event, marker_moved(conversation, &alice, &ids[4], 0));
    assert_eq!(unread(&inbox(&alice).await, conversation), 0);

    // Alice's own messages never count for her, and do for Bob, who has
    // read nothing of hers.
    send(&mut phone, &alice, conversation, "a0").await;
    send(&mut phone, &alice, conversation, "a1").await;
    assert_eq!(unread(&inbox(&alice).await, conversation), 0);
    assert_eq!(unread(&inbox(&bob).await, conversation), 2);
}

#[tokio::test]
async fn a_group_counts_every_other_members_messages() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let mut bob_ws = bob.ws().await;
    let mut carol_ws = carol.ws().await;
    send(&mut bob_ws, &bob, group, "b").await;
    send(&mut carol_ws, &carol, group, "c").await;
    let last = send(&mut bob_ws, &bob, group, "b again").await;
    assert_eq!(unread(&inbox(&alice).await, group), 3);
    assert_eq!(unread(&inbox(&carol).await, group), 1, "Bob's after hers");
    assert_eq!(unread(&inbox(&bob).await, group), 0);
    assert_eq!(
        carol_ws.expect_event("message.receive").await["message_id"],
        last
    );
    let mut alice_ws = alice.ws().await;
    carol_ws.send_json(&read_frame(group, &last)).await;
    // The others hear it (their ticks), and the reader that nothing is
    // left unread.
    for ws in [&mut alice_ws, &mut carol_ws] {
        assert_eq!(
            ws.expect_event("conversation.read").await,
            marker_moved(group, &carol, &last, 0)["payload"]
        );
    }
    carol_ws.expect_silence(QUIET).await;
    assert_eq!(unread(&inbox(&carol).await, group), 0);
    assert_eq!(
        unread(&inbox(&alice).await, group),
        3,
        "Carol's reading is hers"
    );
}

#[tokio::test]
async fn only_the_user_reads_their_inbox() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.conversation(&alice, &[&bob]).await;

    let theirs = bob.get(&format!("/api/v1/chats/{}", alice.id)).await;
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
    let body: Value = theirs.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    for path in [
        format!("/api/v1/chats/{}", natter::protocol::UserId::new_v7()),
        "/api/v1/chats/user_nonsense".to_owned(),
        format!("/api/v1/chats/{}", bob.username),
    ] {
        assert_eq!(
            bob.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let anonymous = reqwest::get(server.url(&format!("/api/v1/chats/{}", alice.id)))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
}
