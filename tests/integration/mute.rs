//! Muting a conversation (docs/protocol.md 3.16, 2.22) and marking a whole
//! inbox read with the read markers of 2.7: a member's own choice, kept on
//! the server, shown in their inbox and conversation, heard by their other
//! connections, and nobody else's business.

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

async fn mute(user: &TestUser, conversation: &str, muted: bool) -> (StatusCode, Value) {
    let method = if muted { Method::PUT } else { Method::DELETE };
    call(
        user,
        method,
        &format!("/api/v1/conversations/{conversation}/mute"),
    )
    .await
}

async fn inbox_row(user: &TestUser, conversation: ConversationId) -> Value {
    let (status, inbox) = call(user, Method::GET, &format!("/api/v1/chats/{}", user.id)).await;
    assert_eq!(status, StatusCode::OK, "{inbox}");
    inbox["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["conversation_id"] == json!(conversation))
        .cloned()
        .unwrap()
}

async fn details(user: &TestUser, conversation: ConversationId) -> Value {
    let (status, body) = call(
        user,
        Method::GET,
        &format!("/api/v1/conversations/{conversation}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn muted_frame(conversation: ConversationId, muted: bool) -> Value {
    json!({"event": "conversation.muted",
           "payload": {"conversation_id": conversation, "muted": muted}})
}

#[tokio::test]
async fn muting_is_kept_shown_to_the_member_alone_and_idempotent() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    assert_eq!(inbox_row(&alice, group).await["muted"], false);
    assert_eq!(details(&alice, group).await["muted"], false);

    assert_eq!(
        mute(&alice, &group.to_string(), true).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        mute(&alice, &group.to_string(), true).await.0,
        StatusCode::NO_CONTENT,
        "again"
    );
    assert_eq!(inbox_row(&alice, group).await["muted"], true);
    assert_eq!(details(&alice, group).await["muted"], true);
    assert_eq!(
        inbox_row(&bob, group).await["muted"],
        false,
        "Bob's row is his own"
    );
    assert_eq!(details(&bob, group).await["muted"], false);

    // A muted conversation still counts what is unread, and still gets
    // its messages live.
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    bob_ws
        .send_and_ack(&bob.send_frame(group, &message_id(), "muted but here"))
        .await;
    assert_eq!(
        alice_ws.expect_event("message.receive").await["content"],
        "muted but here"
    );
    assert_eq!(inbox_row(&alice, group).await["unread_count"], 1);

    for _ in 0..2 {
        assert_eq!(
            mute(&alice, &group.to_string(), false).await.0,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(inbox_row(&alice, group).await["muted"], false);
}

#[tokio::test]
async fn only_a_member_can_mute_and_others_get_the_same_404() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let mallory = server.user("mallory").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let no_such = json!({"code": "not_found", "message": "no such conversation"});
    for (who, path) in [
        (&mallory, group.to_string()),
        (&alice, ConversationId::new_v7().to_string()),
        (&alice, "conv_nonsense".to_owned()),
        (&alice, alice.id.to_string()),
    ] {
        for muted in [true, false] {
            let (status, body) = mute(who, &path, muted).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(body, no_such, "{path}");
        }
    }
    // A member who left is not one.
    let (status, _) = call(
        &bob,
        Method::POST,
        &format!("/api/v1/conversations/{group}/leave"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        mute(&bob, &group.to_string(), true).await.0,
        StatusCode::NOT_FOUND
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM participants WHERE muted")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing changed");
    // Without a session: 401, as every route.
    let response = reqwest::Client::new()
        .put(server.url(&format!("/api/v1/conversations/{group}/mute")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_connection_of_the_member_hears_a_change_and_nobody_else_does() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let direct = server.conversation(&alice, &[&bob]).await;
    let mut laptop = alice.ws().await;
    let mut phone = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    assert_eq!(
        mute(&alice, &direct.to_string(), true).await.0,
        StatusCode::NO_CONTENT
    );
    for ws in [&mut laptop, &mut phone] {
        assert_eq!(ws.recv().await, muted_frame(direct, true));
    }
    bob_ws.expect_silence(QUIET).await;

    // Nothing changed, nothing said.
    mute(&alice, &direct.to_string(), true).await;
    laptop.expect_silence(QUIET).await;

    mute(&alice, &direct.to_string(), false).await;
    for ws in [&mut laptop, &mut phone] {
        assert_eq!(ws.recv().await, muted_frame(direct, false));
    }
    bob_ws.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_client_cannot_send_conversation_muted() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let direct = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    ws.send_json(&muted_frame(direct, true)).await;
    ws.expect_error("unknown_event").await;
    assert_eq!(inbox_row(&alice, direct).await["muted"], false);
}

#[tokio::test]
async fn the_pages_form_mutes_as_the_json_api_does() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let direct = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |muted: &'static str| {
        client
            .post(server.url("/api/mute"))
            .header("cookie", format!("natter_session={}", alice.token))
            .header("accept", "text/html")
            .form(&[
                ("conversation_id", direct.to_string().as_str()),
                ("muted", muted),
            ])
            .send()
    };
    let response = post("true").await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()["location"],
        format!("/c/{direct}").as_str()
    );
    assert_eq!(ws.recv().await, muted_frame(direct, true));
    assert_eq!(inbox_row(&alice, direct).await["muted"], true);
    post("false").await.unwrap();
    assert_eq!(ws.recv().await, muted_frame(direct, false));

    // Bob is not refused differently on the page: the same 404.
    let response = client
        .post(server.url("/api/mute"))
        .header("cookie", format!("natter_session={}", bob.token))
        .form(&[
            ("conversation_id", ConversationId::new_v7().to_string()),
            ("muted", "true".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"code": "not_found", "message": "no such conversation"})
    );
}

/// Reads everything `ws` is sent within `QUIET`.
async fn drain(ws: &mut WsClient) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(frame) = ws.try_recv(QUIET).await {
        frames.push(frame);
    }
    frames
}

#[tokio::test]
async fn a_whole_inbox_page_is_marked_read_within_the_marker_budget() {
    // The shipped budget, not the tests' unlimited one: "Mark all as read"
    // sends one marker per unread row of the pages listed.
    let server = TestServer::start_with(&[(
        "NATTER_READ_MARKER_BUDGET",
        "{ per-minute = 600, burst = 120 }",
    )])
    .await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    // A full first page of the inbox (50), every row unread.
    let mut bob_ws = bob.ws().await;
    let mut people = Vec::new();
    for _ in 0..50 {
        let someone = server.user("friend").await;
        let chat = server.conversation(&someone, &[&alice, &bob]).await;
        let mut ws = someone.ws().await;
        ws.send_and_ack(&someone.send_frame(chat, &message_id(), "news"))
            .await;
        people.push(someone);
    }
    let (_, inbox) = call(&alice, Method::GET, &format!("/api/v1/chats/{}", alice.id)).await;
    let rows = inbox["chats"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r["unread_count"] == 1));
    drain(&mut bob_ws).await;

    let mut laptop = alice.ws().await;
    let mut phone = alice.ws().await;
    for row in &rows {
        laptop
            .send_json(&json!({"event": "conversation.read", "payload": {
                "conversation_id": row["conversation_id"],
                "message_id": row["last_message_id"]}}))
            .await;
    }
    let told = drain(&mut phone).await;
    assert_eq!(told.len(), 50, "the other tab hears each one");
    assert!(told.iter().all(|f| f["event"] == "conversation.read"));
    // No refusal; each one read to the end, as the marking tab hears too.
    let echoed = drain(&mut laptop).await;
    assert_eq!(echoed.len(), 50);
    assert!(
        echoed
            .iter()
            .all(|f| f["event"] == "conversation.read" && f["payload"]["unread_count"] == 0)
    );
    let (_, inbox) = call(&alice, Method::GET, &format!("/api/v1/chats/{}", alice.id)).await;
    assert!(
        inbox["chats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["unread_count"] == 0)
    );
    // The others' ticks move too.
    let bob_heard = drain(&mut bob_ws).await;
    assert_eq!(
        bob_heard
            .iter()
            .filter(
                |f| f["event"] == "conversation.read" && f["payload"]["user_id"] == json!(alice.id)
            )
            .count(),
        50
    );
}

#[tokio::test]
async fn the_pages_form_marks_all_read_without_javascript() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut bob_ws = bob.ws().await;
    let mut chats = Vec::new();
    for n in 0..3 {
        let chat = server
            .conversation(&bob, &[&alice, &server.user("friend").await])
            .await;
        for k in 0..=n {
            bob_ws
                .send_and_ack(&bob.send_frame(chat, &message_id(), &format!("news {k}")))
                .await;
        }
        chats.push(chat);
    }
    for chat in &chats {
        assert!(inbox_row(&alice, *chat).await["unread_count"].as_i64() > Some(0));
    }
    drain(&mut bob_ws).await;
    let mut phone = alice.ws().await;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(server.url("/api/read_all"))
        .header("cookie", format!("natter_session={}", alice.token))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/");
    for chat in &chats {
        assert_eq!(inbox_row(&alice, *chat).await["unread_count"], 0);
    }
    // Each marker is heard as one sent by a hydrated page would be.
    let read_by_alice = |frames: Vec<Value>| {
        frames
            .into_iter()
            .filter(|f| {
                f["event"] == "conversation.read" && f["payload"]["user_id"] == json!(alice.id)
            })
            .map(|f| f["payload"]["conversation_id"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let expected: std::collections::BTreeSet<_> = chats.iter().map(|c| c.to_string()).collect();
    assert_eq!(read_by_alice(drain(&mut bob_ws).await), expected);
    assert_eq!(read_by_alice(drain(&mut phone).await), expected);

    // Nothing left unread: posting again moves nothing.
    client
        .post(server.url("/api/read_all"))
        .header("cookie", format!("natter_session={}", alice.token))
        .send()
        .await
        .unwrap();
    assert!(read_by_alice(drain(&mut bob_ws).await).is_empty());
}

/// What a muted conversation still notifies for: `message.receive` names
/// the people the text mentions, by the rule the page marks mentions with
/// (not in code, not escaped, not inside a link), so every reader's page
/// decides the same.
#[tokio::test]
async fn a_received_message_names_whom_it_mentions_as_the_page_would() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let bob_name = bob.username.to_uppercase();
    for (text, expected) in [
        (
            format!("hey @{bob_name}, and `@{}`", carol.username),
            json!([bob.username]),
        ),
        (
            format!(
                "\\@{} https://x.y/@{} *@{}*",
                bob.username, bob.username, carol.username
            ),
            json!([carol.username]),
        ),
        ("no one here".to_owned(), Value::Null),
    ] {
        alice_ws
            .send_and_ack(&alice.send_frame(group, &message_id(), &text))
            .await;
        let received = bob_ws.recv().await;
        assert_eq!(received["event"], "message.receive");
        assert_eq!(received["payload"]["mentions"], expected, "{text}");
    }
}
