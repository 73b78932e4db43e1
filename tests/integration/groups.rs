//! Groups nobody can weaponise: a size cap, leaving a group, blocking a
//! person, and an inbox that comes a page at a time and names a few members
//! per group rather than all of them.

use crate::common::{TestServer, TestUser, WsClient, message_id};
use natter::protocol::ConversationId;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

/// A bodiless call with the user's token: status and JSON body (null for
/// an empty one).
async fn call(user: &TestUser, method: Method, path: &str) -> (StatusCode, Value) {
    let response = user
        .client()
        .request(method, format!("{}{path}", user.base))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

async fn leave(user: &TestUser, conversation: ConversationId) -> (StatusCode, Value) {
    call(
        user,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/leave"),
    )
    .await
}

async fn block(user: &TestUser, other: &TestUser) -> StatusCode {
    call(
        user,
        Method::PUT,
        &format!("/api/v1/users/{}/block", other.id),
    )
    .await
    .0
}

async fn unblock(user: &TestUser, other: &TestUser) -> StatusCode {
    call(
        user,
        Method::DELETE,
        &format!("/api/v1/users/{}/block", other.id),
    )
    .await
    .0
}

async fn create(user: &TestUser, others: &[&TestUser]) -> (StatusCode, Value) {
    let ids: Vec<_> = others.iter().map(|u| u.id).collect();
    let response = user
        .post("/api/v1/conversations", &json!({ "participants": ids }))
        .await;
    (response.status(), response.json().await.unwrap())
}

async fn inbox_page(user: &TestUser, query: &str) -> Value {
    let (status, body) = call(
        user,
        Method::GET,
        &format!("/api/v1/chats/{}{query}", user.id),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn listed(page: &Value) -> Vec<String> {
    page["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends on `ws` and returns the next frame about that message: its ack,
/// or an error.
async fn try_send(
    ws: &mut WsClient,
    user: &TestUser,
    conversation: ConversationId,
    text: &str,
) -> Value {
    let id = message_id();
    ws.send_json(&user.send_frame(conversation, &id, text))
        .await;
    loop {
        let frame = ws.recv().await;
        if frame["payload"]["message_id"] == id.as_str() {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_group_holds_at_most_max_group_size_members() {
    let server = TestServer::start_with(&[("NATTER_MAX_GROUP_SIZE", "4")]).await;
    let me = server.user("owner").await;
    let mut people = Vec::new();
    for _ in 0..4 {
        people.push(server.user("member").await);
    }
    let refs: Vec<&TestUser> = people.iter().collect();
    let (status, body) = create(&me, &refs).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "five with me: {body}");
    assert_eq!(body["code"], "invalid_payload");
    assert_eq!(body["field"], "participants");
    assert!(
        body["message"].as_str().unwrap().contains("at most 4"),
        "{body}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing made");
    let (status, body) = create(&me, &refs[..3]).await;
    assert_eq!(status, StatusCode::CREATED, "four with me: {body}");
}

#[tokio::test]
async fn leaving_a_group_tells_everyone_and_only_the_leaver_loses_it() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let mut bob_phone = bob.ws().await;
    let mut carol_ws = carol.ws().await;
    bob_ws
        .send_and_ack(&bob.send_frame(group, &message_id(), "bye all"))
        .await;
    for ws in [&mut alice_ws, &mut bob_phone, &mut carol_ws] {
        ws.expect_event("message.receive").await;
    }

    let (status, body) = leave(&bob, group).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = json!({"event": "conversation.left",
                      "payload": {"conversation_id": group, "user_id": bob.id}});
    // Every connection of the members, and Bob's own (his other tabs
    // close the group).
    for ws in [&mut alice_ws, &mut carol_ws, &mut bob_ws, &mut bob_phone] {
        assert_eq!(ws.recv().await, left);
        ws.expect_silence(Duration::from_millis(50)).await;
    }

    // Gone from Bob's inbox; still in the others', one member fewer.
    assert!(listed(&inbox_page(&bob, "").await).is_empty());
    let alices = inbox_page(&alice, "").await;
    let row = &alices["chats"][0];
    assert_eq!(row["conversation_id"], json!(group));
    assert_eq!(row["member_count"], 2);
    assert_eq!(
        row["participants"],
        json!([{"user_id": carol.id, "username": carol.username}])
    );

    // Bob can no longer read or write it; it is as if it did not exist.
    let (status, _) = call(&bob, Method::GET, &format!("/api/v1/chat/{group}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let refused = try_send(&mut bob_ws, &bob, group, "still here?").await;
    assert_eq!(refused["event"], "error");
    assert_eq!(refused["payload"]["code"], "forbidden");
    alice_ws.expect_silence(QUIET).await;
    // Leaving twice is leaving a conversation one is not in.
    assert_eq!(leave(&bob, group).await.0, StatusCode::NOT_FOUND);

    // The others go on; Bob's message stays, with his name.
    let sent = try_send(&mut alice_ws, &alice, group, "he left").await;
    assert_eq!(sent["event"], "message.ack");
    assert_eq!(
        carol_ws.expect_event("message.receive").await["content"],
        "he left"
    );
    bob_ws.expect_silence(QUIET).await;
    let (status, history) = call(&carol, Method::GET, &format!("/api/v1/chat/{group}")).await;
    assert_eq!(status, StatusCode::OK);
    let contents: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["he left", "bye all"]);
    let (status, conversation) = call(
        &carol,
        Method::GET,
        &format!("/api/v1/conversations/{group}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        conversation["former_participants"],
        json!([{"user_id": bob.id, "username": bob.username}]),
        "his name for his old messages"
    );
    assert_eq!(conversation["participants"].as_array().unwrap().len(), 2);
    let (status, _) = call(&bob, Method::GET, &format!("/api/v1/conversations/{group}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_direct_chat_cannot_be_left_and_strangers_cannot_leave_a_group() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let mallory = server.user("mallory").await;
    let direct = server.conversation(&alice, &[&bob]).await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;

    let (status, body) = leave(&alice, direct).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_payload");
    assert!(
        body["message"].as_str().unwrap().contains("block"),
        "says what to do instead: {body}"
    );
    for path in [
        format!("/api/v1/conversations/{group}/leave"),
        format!("/api/v1/conversations/{}/leave", ConversationId::new_v7()),
        "/api/v1/conversations/conv_nonsense/leave".to_owned(),
    ] {
        let (status, body) = call(&mallory, Method::POST, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "not_found");
    }
    // Nothing changed: both chats still have everyone.
    for user in [&alice, &bob] {
        assert_eq!(listed(&inbox_page(user, "").await).len(), 2);
    }
    let (status, _) = call(
        &alice,
        Method::POST,
        &format!("/api/v1/conversations/{group}/leave"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let anonymous = reqwest::Client::new()
        .post(server.url(&format!("/api/v1/conversations/{group}/leave")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_blocked_person_cannot_start_a_chat_or_group_with_the_blocker() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    assert_eq!(block(&alice, &bob).await, StatusCode::NO_CONTENT);
    assert_eq!(block(&alice, &bob).await, StatusCode::NO_CONTENT, "again");

    for (who, others) in [
        (&bob, vec![&alice]),
        (&alice, vec![&bob]),
        (&carol, vec![&alice, &bob]),
        (&bob, vec![&alice, &carol]),
    ] {
        let (status, body) = create(who, &others).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "forbidden");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing made");
    // Without Alice, Bob and Carol are free to talk.
    assert_eq!(create(&bob, &[&carol]).await.0, StatusCode::CREATED);

    assert_eq!(unblock(&alice, &bob).await, StatusCode::NO_CONTENT);
    assert_eq!(create(&bob, &[&alice]).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn blocking_stops_a_direct_chat_both_ways_but_not_a_shared_group() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let direct = server.conversation(&alice, &[&bob]).await;
    let group = server.conversation(&carol, &[&alice, &bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    assert_eq!(block(&alice, &bob).await, StatusCode::NO_CONTENT);
    for (ws, user) in [(&mut bob_ws, &bob), (&mut alice_ws, &alice)] {
        let refused = try_send(ws, user, direct, "hello?").await;
        assert_eq!(refused["event"], "error", "{refused}");
        assert_eq!(refused["payload"]["code"], "forbidden");
    }
    // In the group Bob still speaks, and Alice still hears him.
    let sent = try_send(&mut bob_ws, &bob, group, "in the group").await;
    assert_eq!(sent["event"], "message.ack");
    assert_eq!(
        alice_ws.expect_event("message.receive").await["content"],
        "in the group"
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE conversation_id = $1")
            .bind(direct)
            .fetch_one(&server.db)
            .await
            .unwrap();
    assert_eq!(stored, 0, "nothing stored in the blocked chat");

    assert_eq!(unblock(&alice, &bob).await, StatusCode::NO_CONTENT);
    let sent = try_send(&mut bob_ws, &bob, direct, "friends again").await;
    assert_eq!(sent["event"], "message.ack", "{sent}");
}

#[tokio::test]
async fn blocking_nobody_or_oneself_is_refused() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let (status, body) = call(
        &alice,
        Method::PUT,
        &format!("/api/v1/users/{}/block", natter::protocol::UserId::new_v7()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    let (status, body) = call(
        &alice,
        Method::PUT,
        &format!("/api/v1/users/{}/block", alice.id),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_payload");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM blocks")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn the_inbox_comes_a_page_at_a_time_with_every_chat_once() {
    let server = TestServer::start().await;
    let me = server.user("me").await;
    let mut made = Vec::new();
    for _ in 0..5 {
        let other = server.user("friend").await;
        made.push(server.conversation(&me, &[&other]).await.to_string());
    }
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();

    let first = inbox_page(&me, "?limit=2").await;
    assert_eq!(listed(&first), newest_first[..2]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // Asking again with the same cursor gives the same page.
    let second = inbox_page(&me, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(
        second,
        inbox_page(&me, &format!("?limit=2&cursor={cursor}")).await
    );
    assert_eq!(listed(&second), newest_first[2..4]);
    let last = inbox_page(
        &me,
        &format!(
            "?limit=2&cursor={}",
            second["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(listed(&last), newest_first[4..]);
    assert_eq!(last["next_cursor"], Value::Null, "the end");

    // Without a limit, a page is 50: all five, and no cursor.
    let all = inbox_page(&me, "").await;
    assert_eq!(listed(&all), newest_first);
    assert_eq!(all["next_cursor"], Value::Null);

    for query in [
        "?limit=0",
        "?limit=101",
        "?limit=ten",
        "?cursor=nonsense",
        "?cursor=12_user_0190a6f8c2b47cc1a1b2c3d4e5f60718",
    ] {
        let (status, body) =
            call(&me, Method::GET, &format!("/api/v1/chats/{}{query}", me.id)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["code"], "invalid_payload", "{query}");
    }
}

#[tokio::test]
async fn a_groups_row_names_three_members_and_counts_them_all() {
    let server = TestServer::start().await;
    let me = server.user("me").await;
    let mut others = Vec::new();
    for _ in 0..6 {
        others.push(server.user("m").await);
    }
    let refs: Vec<&TestUser> = others.iter().collect();
    server.conversation(&me, &refs).await;
    let page = inbox_page(&me, "").await;
    let row = &page["chats"][0];
    assert_eq!(row["member_count"], 7);
    // The first three others by name, each name with its own id.
    let mut by_name: Vec<&TestUser> = others.iter().collect();
    by_name.sort_by(|a, b| a.username.cmp(&b.username));
    let first_three: Vec<_> = by_name[..3]
        .iter()
        .map(|u| json!({"user_id": u.id, "username": u.username}))
        .collect();
    assert_eq!(row["participants"], json!(first_three), "{row}");
    // The conversation itself lists everyone.
    let (status, conversation) = call(
        &me,
        Method::GET,
        &format!(
            "/api/v1/conversations/{}",
            row["conversation_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(conversation["participants"].as_array().unwrap().len(), 7);
}
