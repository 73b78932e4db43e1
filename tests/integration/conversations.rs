//! `POST /api/v1/conversations`: direct chats found or made once (by the
//! database's rule, also under a race), groups, and the 400/401/404 answers.

use crate::common::{TestServer, TestUser};
use natter::protocol::UserId;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn create(user: &TestUser, body: Value) -> (StatusCode, Value) {
    let response = user.post("/api/v1/conversations", &body).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn summary(user: &TestUser) -> Value {
    json!({"user_id": user.id, "username": user.username})
}

/// Participants sorted by username, as the API lists them.
fn sorted(users: &[&TestUser]) -> Value {
    let mut users = users.to_vec();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    Value::Array(users.into_iter().map(summary).collect())
}

#[tokio::test]
async fn a_direct_chat_is_created_once_then_found_from_either_side() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let (status, body) = create(&alice, json!({"participants": [bob.id]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["conversation_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("conv_"), "{id}");
    assert_eq!(
        body,
        json!({"conversation_id": id, "kind": "direct", "title": null, "muted": false,
               "participants": sorted(&[&alice, &bob])})
    );

    let (status, again) = create(&alice, json!({"participants": [bob.id]})).await;
    assert_eq!(status, StatusCode::OK, "found, not made again");
    assert_eq!(again, body);
    let (status, from_bob) = create(&bob, json!({"participants": [alice.id]})).await;
    assert_eq!(status, StatusCode::OK, "the same chat from the other side");
    assert_eq!(from_bob["conversation_id"], id);
    // Naming oneself too, twice over, or with a title, is still the one chat.
    let (status, with_self) = create(
        &alice,
        json!({"participants": [alice.id, bob.id, bob.id], "title": "ignored"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(with_self["conversation_id"], id);

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn racing_creates_of_one_direct_chat_agree_on_one_conversation() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    // Both sides at once, several times over.
    let attempts: Vec<_> = (0..12)
        .map(|n| {
            let (me, other) = if n % 2 == 0 {
                (&alice, &bob)
            } else {
                (&bob, &alice)
            };
            create(me, json!({"participants": [other.id]}))
        })
        .collect();
    let results = futures::future::join_all(attempts).await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::OK),
        "{results:?}"
    );
    let id = &results[0].1["conversation_id"];
    assert!(results.iter().all(|(_, b)| b["conversation_id"] == *id));
    let (count, members): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM participants)",
    )
    .fetch_one(&server.db)
    .await
    .unwrap();
    assert_eq!((count, members), (1, 2));
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_direct_chat_for_a_pair() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.conversation(&alice, &[&bob]).await;
    let (low, high) = if alice.id < bob.id {
        (alice.id, bob.id)
    } else {
        (bob.id, alice.id)
    };
    // Code that skipped the lookup would still be stopped here.
    let second = sqlx::query(
        "INSERT INTO conversations (id, kind, direct_low, direct_high) \
         VALUES ($1, 'direct', $2, $3)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(low.0)
    .bind(high.0)
    .execute(&server.db)
    .await
    .expect_err("a second direct chat for the pair is refused");
    let constraint = second
        .as_database_error()
        .and_then(|e| e.constraint())
        .map(str::to_owned);
    assert_eq!(constraint.as_deref(), Some("conversations_direct_pair_key"));
    // Nor can the pair be spelled the other way round.
    let reversed = sqlx::query(
        "INSERT INTO conversations (id, kind, direct_low, direct_high) \
         VALUES ($1, 'direct', $2, $3)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(high.0)
    .bind(low.0)
    .execute(&server.db)
    .await;
    assert!(reversed.is_err());
}

#[tokio::test]
async fn two_or_more_others_make_a_new_group_each_time() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;

    let (status, body) = create(
        &alice,
        json!({"participants": [bob.id, carol.id], "title": "  Weekend plans  "}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({"conversation_id": id, "kind": "group", "title": "Weekend plans", "muted": false,
               "participants": sorted(&[&alice, &bob, &carol])})
    );
    let (status, second) = create(&alice, json!({"participants": [bob.id, carol.id]})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(second["conversation_id"], body["conversation_id"]);
    assert_eq!(second["title"], Value::Null);
    // Every member can write in it straight away.
    let mut ws = carol.ws().await;
    let group = natter::protocol::ConversationId::parse(&id).unwrap();
    ws.send_and_ack(&carol.send_frame(group, &crate::common::message_id(), "hi all"))
        .await;
}

#[tokio::test]
async fn no_other_participant_is_400_an_unknown_one_404_and_nobody_signed_in_401() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    for (label, body) in [
        ("empty list", json!({"participants": []})),
        ("only oneself", json!({"participants": [alice.id]})),
        (
            "oneself twice",
            json!({"participants": [alice.id, alice.id]}),
        ),
        ("no participants field", json!({"title": "x"})),
        ("not a list", json!({"participants": bob.id})),
        ("not a user id", json!({"participants": ["bob"]})),
        (
            "a conversation id",
            json!({"participants": [format!("conv_{}", uuid::Uuid::now_v7().simple())]}),
        ),
        (
            "a title over 100 characters",
            json!({"participants": [bob.id, server.user("carol").await.id], "title": "t".repeat(101)}),
        ),
        (
            "a title with a NUL",
            json!({"participants": [bob.id, server.user("dave").await.id], "title": "a\u{0}b"}),
        ),
    ] {
        let (status, error) = create(&alice, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{label}: {error}");
        assert_eq!(error["code"], "invalid_payload", "{label}");
        assert!(
            matches!(error["field"].as_str(), Some("participants" | "title")),
            "{label}: {error}"
        );
    }

    let ghost = UserId::new_v7();
    let (status, error) = create(&alice, json!({"participants": [ghost]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(error["code"], "not_found");
    let (status, _) = create(&alice, json!({"participants": [bob.id, ghost]})).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "one unknown member spoils a group"
    );

    let anonymous = reqwest::Client::new()
        .post(server.url("/api/v1/conversations"))
        .json(&json!({"participants": [bob.id]}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was created");
}
