//! `GET /api/v1/chat/:conversation_id`: the spec's JSON, newest first, the
//! message-id cursor (stable while new messages arrive), and the 400 / 401 /
//! 404 answers.

use crate::common::{TestServer, TestUser, WsClient, message_id};
use natter::protocol::ConversationId;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) async fn get(user: &TestUser, path: &str) -> (StatusCode, Value) {
    let response = user.get(path).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Sends `contents` as `user` on `ws`, a window in flight at a time; the ids
/// in send order.
pub(crate) async fn send_all(
    ws: &mut WsClient,
    user: &TestUser,
    conversation: ConversationId,
    contents: impl IntoIterator<Item = String>,
) -> Vec<String> {
    let contents: Vec<String> = contents.into_iter().collect();
    let mut ids = Vec::new();
    for window in contents.chunks(50) {
        let batch: Vec<String> = window.iter().map(|_| message_id()).collect();
        for (id, content) in batch.iter().zip(window) {
            ws.send_json(&user.send_frame(conversation, id, content))
                .await;
        }
        for id in &batch {
            // Skipping what others sent meanwhile.
            let ack = loop {
                let frame = ws.recv().await;
                if frame["event"] != "message.receive" {
                    break frame;
                }
            };
            assert_eq!(ack["event"], "message.ack", "{ack}");
            assert_eq!(ack["payload"]["message_id"], *id);
        }
        ids.extend(batch);
    }
    ids
}

pub(crate) fn ids_of(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_page_is_exactly_the_specs_json_newest_first() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;

    let (status, empty) = get(&alice, &format!("/api/v1/chat/{conversation}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        empty,
        json!({"conversation_id": conversation, "messages": [], "next_cursor": null,
               "last_change": 0})
    );

    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let first = alice.send_frame(conversation, &message_id(), "hey");
    alice_ws.send_and_ack(&first).await;
    bob_ws.expect_event("message.receive").await;
    let second = bob.send_frame(conversation, &message_id(), "hi ✓ \"quoted\"");
    bob_ws.send_and_ack(&second).await;

    let (status, page) = get(&bob, &format!("/api/v1/chat/{conversation}")).await;
    assert_eq!(status, StatusCode::OK);
    let entry = |frame: &Value, change: i64| {
        let p = &frame["payload"];
        json!({"message_id": p["message_id"], "sender_id": p["sender_id"],
               "content": p["content"], "timestamp": p["timestamp"], "change": change})
    };
    // Whole-value equality: no missing, extra or differently typed field.
    assert_eq!(
        page,
        json!({"conversation_id": conversation,
               "messages": [entry(&second, 2), entry(&first, 1)],
               "next_cursor": null, "last_change": 2})
    );
    assert!(page["messages"][0]["timestamp"].is_i64());
}

#[tokio::test]
async fn the_default_page_is_20_and_next_cursor_is_null_exactly_at_the_end() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let ids = send_all(
        &mut ws,
        &alice,
        conversation,
        (0..40).map(|n| format!("m{n}")),
    )
    .await;
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    let (_, page) = get(&bob, &format!("/api/v1/chat/{conversation}")).await;
    assert_eq!(ids_of(&page), newest_first[..20]);
    assert_eq!(page["next_cursor"], newest_first[19], "the page's oldest");
    // Exactly the rest: the last page says so itself, no empty page after.
    let (_, page) = get(
        &bob,
        &format!(
            "/api/v1/chat/{conversation}?cursor={}",
            page["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(ids_of(&page), newest_first[20..]);
    assert_eq!(page["next_cursor"], Value::Null);
    // The oldest message as a cursor: nothing older.
    let (status, page) = get(
        &bob,
        &format!("/api/v1/chat/{conversation}?cursor={}", ids[0]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["messages"], json!([]));
    assert_eq!(page["next_cursor"], Value::Null);
    // limit=1 and limit=100 are both allowed.
    let (_, one) = get(&bob, &format!("/api/v1/chat/{conversation}?limit=1")).await;
    assert_eq!(ids_of(&one), newest_first[..1]);
    assert_eq!(one["next_cursor"], newest_first[0]);
    let (_, all) = get(&bob, &format!("/api/v1/chat/{conversation}?limit=100")).await;
    assert_eq!(ids_of(&all), newest_first);
    assert_eq!(all["next_cursor"], Value::Null);
}

#[tokio::test]
async fn paging_back_through_250_messages_while_new_ones_arrive_sees_each_once_in_order() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let old = send_all(
        &mut alice_ws,
        &alice,
        conversation,
        (0..250).map(|n| format!("old {n}")),
    )
    .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let mut arrived = Vec::new();
    // Page sizes that do not divide 250, varying.
    let limits = [23, 7, 40, 1, 100, 33];
    loop {
        let limit = limits[pages % limits.len()];
        let path = match &cursor {
            None => format!("/api/v1/chat/{conversation}?limit={limit}"),
            Some(c) => format!("/api/v1/chat/{conversation}?limit={limit}&cursor={c}"),
        };
        let (status, page) = get(&bob, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids = ids_of(&page);
        assert!(ids.len() <= limit);
        seen.extend(ids);
        pages += 1;
        // Both write more between Bob's pages.
        arrived.extend(
            send_all(
                &mut alice_ws,
                &alice,
                conversation,
                (0..3).map(|n| format!("new {pages}.{n}")),
            )
            .await,
        );
        arrived.extend(send_all(&mut bob_ws, &bob, conversation, [format!("reply {pages}")]).await);
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(Some(next), seen.last().map(String::as_str));
                cursor = Some(next.to_owned());
            }
            None => break,
        }
        assert!(pages < 100, "paging never ends");
    }
    let expected: Vec<String> = old.iter().rev().cloned().collect();
    assert_eq!(
        seen, expected,
        "every old message exactly once, newest first, none of the new ones"
    );

    // The newest page now starts with what arrived meanwhile.
    let (_, page) = get(&bob, &format!("/api/v1/chat/{conversation}?limit=100")).await;
    let newest: Vec<String> = arrived.iter().rev().cloned().collect();
    assert!(newest.len() < 100);
    assert_eq!(ids_of(&page)[..newest.len()], newest);
    assert_eq!(
        ids_of(&page)[newest.len()..],
        expected[..100 - newest.len()]
    );
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_400() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let with_bob = server.conversation(&alice, &[&bob]).await;
    let with_carol = server.conversation(&alice, &[&carol]).await;
    let mut ws = alice.ws().await;
    send_all(&mut ws, &alice, with_bob, ["in bob's".to_owned()]).await;
    let elsewhere = send_all(&mut ws, &alice, with_carol, ["in carol's".to_owned()]).await;

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("limit=", "limit"),
        ("limit=99999999999999999999", "limit"),
        // Well formed, but no message at all.
        ("cursor=msg_never_sent", "cursor"),
        ("cursor=not%20an%20id", "cursor"),
        (&format!("cursor={}", "m".repeat(65)), "cursor"),
        // A real message, of another conversation Alice is in.
        (&format!("cursor={}", elsewhere[0]), "cursor"),
    ] {
        let (status, error) = get(&alice, &format!("/api/v1/chat/{with_bob}?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {error}");
        assert_eq!(error["code"], "invalid_payload", "{query}");
        assert_eq!(error["field"], field, "{query}");
    }
}

#[tokio::test]
async fn another_users_or_a_missing_conversation_is_the_same_404_and_no_session_is_401() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mallory = server.user("mallory").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let sent = send_all(&mut ws, &alice, conversation, ["secret".to_owned()]).await;

    let (status, theirs) = get(&mallory, &format!("/api/v1/chat/{conversation}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) = get(
        &mallory,
        &format!("/api/v1/chat/{}", ConversationId::new_v7()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(theirs, missing, "nothing tells them apart");
    assert_eq!(theirs["code"], "not_found");
    // Nor with a cursor that is one of its messages.
    let (status, with_cursor) = get(
        &mallory,
        &format!("/api/v1/chat/{conversation}?cursor={}", sent[0]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(with_cursor, missing);
    let (status, _) = get(&mallory, "/api/v1/chat/conv_nonsense").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let anonymous = reqwest::get(server.url(&format!("/api/v1/chat/{conversation}")))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
}
