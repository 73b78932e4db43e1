//! The change stream (`GET /api/v1/chat/:id/changes?since=`), pages around
//! a message, and message actions across two nodes.

use crate::actions::{acked, action_id, delete, edit, history, react, say};
use crate::common::node::Node;
use crate::common::{TestServer, TestUser, conversation, fresh_database_url, message_id};
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn changes(user: &TestUser, conversation: impl ToString, query: &str) -> Value {
    let answer = user
        .get(&format!(
            "/api/v1/chat/{}/changes?{query}",
            conversation.to_string()
        ))
        .await;
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

#[tokio::test]
async fn changes_since_a_point_are_exactly_what_happened_after_it() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    let mut m = Vec::new();
    for n in 1..=5 {
        m.push(say(&mut a, &alice, chat, &format!("message {n}")).await);
    }
    for _ in 0..5 {
        b.expect_event("message.receive").await;
    }
    let point = history(&bob, chat).await["last_change"].as_i64().unwrap();
    assert_eq!(point, 5);

    // After the point: an edit, the deletion of the OLDEST message, a
    // reaction, a new message; and the edited message edited again.
    acked(&mut a, &edit(&action_id(), chat, &m[1], "message 2, fixed")).await;
    for ws in [&mut a, &mut b] {
        ws.expect_event("message.edited").await;
    }
    acked(&mut a, &delete(&action_id(), chat, &m[0])).await;
    for ws in [&mut a, &mut b] {
        ws.expect_event("message.deleted").await;
    }
    acked(&mut b, &react(true, &action_id(), chat, &m[2], "😂")).await;
    for ws in [&mut a, &mut b] {
        ws.expect_event("reaction.added").await;
    }
    let fresh = say(&mut a, &alice, chat, "message 6").await;
    b.expect_event("message.receive").await;
    acked(
        &mut a,
        &edit(&action_id(), chat, &m[1], "message 2, fixed twice"),
    )
    .await;

    let all = changes(&bob, chat, &format!("since={point}")).await;
    assert_eq!(
        ids(&all),
        [&m[0], &m[2], &fresh, &m[1]].map(String::clone),
        "each once, by latest change"
    );
    assert_eq!(
        (all["last_change"].clone(), all["more"].clone()),
        (json!(10), json!(false))
    );
    let by_id = |id: &str| {
        all["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["message_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&m[0])["deleted"], true);
    assert_eq!(by_id(&m[1])["content"], "message 2, fixed twice");
    assert_eq!(
        by_id(&m[2])["reactions"],
        json!([{"emoji": "😂", "count": 1, "mine": true, "users": [bob.id]}])
    );

    // Nothing before the point, nothing twice when paged.
    let first = changes(&bob, chat, &format!("since={point}&limit=2")).await;
    assert_eq!(ids(&first), [&m[0], &m[2]].map(String::clone));
    assert_eq!(first["more"], true);
    let rest = changes(&bob, chat, &format!("since={}", first["last_change"])).await;
    assert_eq!(ids(&rest), [&fresh, &m[1]].map(String::clone));
    assert_eq!(changes(&bob, chat, "since=10").await["messages"], json!([]));
    assert_eq!(changes(&bob, chat, "since=10").await["last_change"], 10);
    assert_eq!(ids(&changes(&bob, chat, "since=0").await).len(), 6);

    for (query, field) in [
        ("since=-1", "since"),
        ("since=x", "since"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ] {
        let bad = bob
            .get(&format!("/api/v1/chat/{chat}/changes?{query}"))
            .await;
        assert_eq!(bad.status(), 400, "{query}");
        assert_eq!(
            bad.json::<Value>().await.unwrap()["field"],
            field,
            "{query}"
        );
    }
    let eve = server.user("eve").await;
    for path in [
        format!("/api/v1/chat/{chat}/changes"),
        "/api/v1/chat/nope/changes".into(),
    ] {
        let hidden = eve.get(&path).await;
        assert_eq!(hidden.status(), 404);
        assert_eq!(
            hidden.json::<Value>().await.unwrap()["message"],
            "no such conversation"
        );
    }
}

#[tokio::test]
async fn a_page_around_a_message_contains_it() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut a = alice.ws().await;
    let mut m = Vec::new();
    for n in 1..=30 {
        m.push(say(&mut a, &alice, chat, &format!("message {n}")).await);
    }
    let page: Value = bob
        .get(&format!("/api/v1/chat/{chat}?around={}&limit=10", m[4]))
        .await
        .json()
        .await
        .unwrap();
    // Four newer, the message, five older; newest first.
    let expected: Vec<&String> = m[0..=8].iter().rev().collect();
    assert_eq!(
        ids(&page),
        expected[..9].iter().map(|s| s.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(
        page["next_cursor"],
        Value::Null,
        "nothing older than the first"
    );
    let page: Value = bob
        .get(&format!("/api/v1/chat/{chat}?around={}&limit=10", m[15]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&page).first(), Some(&m[19]));
    assert!(ids(&page).contains(&m[15]));
    assert_eq!(page["next_cursor"], json!(m[10]));
    // Near the newest end, the page fills up with older ones.
    let page: Value = bob
        .get(&format!("/api/v1/chat/{chat}?around={}&limit=10", m[29]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&page).len(), 10);
    assert_eq!(ids(&page)[0], m[29]);

    let both = bob
        .get(&format!(
            "/api/v1/chat/{chat}?around={}&cursor={}",
            m[4], m[5]
        ))
        .await;
    assert_eq!(both.status(), 400);
    assert_eq!(both.json::<Value>().await.unwrap()["field"], "around");
    let other = server
        .conversation(&alice, &[&server.user("carol").await])
        .await;
    let elsewhere = say(&mut a, &alice, other, "elsewhere").await;
    let wrong = bob
        .get(&format!("/api/v1/chat/{chat}?around={elsewhere}"))
        .await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["message"],
        "around is not a message of this conversation"
    );
}

#[tokio::test]
async fn edits_deletions_and_reactions_reach_members_on_another_node() {
    let db_url = fresh_database_url().await;
    let one = Node::start(&[("DATABASE_URL", &db_url)]);
    let two = Node::start(&[("DATABASE_URL", &db_url)]);
    let alice = one.user("alice").await;
    let bob_there = one.user("bob").await;
    let bob = TestUser {
        base: two.base.clone(),
        ..bob_there.clone()
    };
    let chat = conversation(&alice, &[&bob_there], None).await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    // Both nodes know of each other once a message crosses.
    let id = message_id();
    let chat_id = natter::protocol::ConversationId::parse(&chat).unwrap();
    a.send_and_ack(&alice.send_frame(chat_id, &id, "across"))
        .await;
    assert_eq!(
        b.expect_event("message.receive").await["message_id"],
        json!(id)
    );

    let change = acked(&mut a, &edit(&action_id(), &chat, &id, "across nodes")).await;
    a.expect_event("message.edited").await;
    let edited = b.expect_event("message.edited").await;
    assert_eq!(
        (edited["content"].clone(), edited["change"].clone()),
        (json!("across nodes"), change)
    );

    acked(&mut b, &react(true, &action_id(), &chat, &id, "👀")).await;
    b.expect_event("reaction.added").await;
    assert_eq!(
        a.expect_event("reaction.added").await["user_id"],
        json!(bob.id)
    );

    acked(&mut a, &delete(&action_id(), &chat, &id)).await;
    a.expect_event("message.deleted").await;
    assert_eq!(
        b.expect_event("message.deleted").await["message_id"],
        json!(id)
    );
    let page = history(&bob, &chat).await;
    assert_eq!(page["messages"][0]["deleted"], true);
}
