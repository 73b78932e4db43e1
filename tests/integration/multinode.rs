//! Two natter processes on one database: clients on either node chat with
//! each other, groups fan out across both, and a node whose listener drops
//! catches up. Nothing is lost, nothing arrives twice.

use crate::common::node::Node;
use crate::common::{TestUser, WsClient, conversation, fresh_database_url, message_id, now_ms};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

struct Cluster {
    a: Node,
    b: Node,
    db_url: String,
}

async fn two_nodes() -> Cluster {
    let db_url = fresh_database_url().await;
    let a = Node::start(&[("DATABASE_URL", &db_url)]);
    let b = Node::start(&[("DATABASE_URL", &db_url)]);
    Cluster { a, b, db_url }
}

async fn register(node: &Node, prefix: &str) -> TestUser {
    node.user(prefix).await
}

/// The same session, talking to another node.
fn on(user: &TestUser, node: &Node) -> TestUser {
    TestUser {
        base: node.base.clone(),
        ..user.clone()
    }
}

fn send_frame(user: &TestUser, conversation: &str, id: &str, content: &str) -> Value {
    json!({"event": "message.send", "payload": {
        "conversation_id": conversation, "sender_id": user.id,
        "message_id": id, "content": content, "timestamp": now_ms()}})
}

/// Sends and waits for the ack, keeping the contents of the
/// `message.receive` frames that arrive meanwhile.
async fn send_collecting(ws: &mut WsClient, frame: &Value, received: &mut Vec<String>) {
    ws.send_json(frame).await;
    loop {
        let reply = ws.recv().await;
        match reply["event"].as_str() {
            Some("message.ack") => {
                assert_eq!(
                    reply["payload"]["message_id"],
                    frame["payload"]["message_id"]
                );
                return;
            }
            Some("message.receive") => {
                received.push(reply["payload"]["content"].as_str().unwrap().to_owned())
            }
            _ => panic!("unexpected {reply}"),
        }
    }
}

/// Reads `message.receive` frames until `expected` have arrived (acks and
/// other events are skipped), then checks nothing more comes.
async fn receive(ws: &mut WsClient, expected: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < expected {
        let frame = ws.recv().await;
        if frame["event"] == "message.receive" {
            got.push(frame["payload"]["content"].as_str().unwrap().to_owned());
        }
    }
    while let Some(frame) = ws.try_recv(Duration::from_millis(300)).await {
        assert_ne!(frame["event"], "message.receive", "one too many: {frame}");
    }
    got
}

#[tokio::test]
async fn clients_on_two_nodes_chat_both_ways_and_groups_fan_out_across_both() {
    let nodes = two_nodes().await;
    let alice = register(&nodes.a, "alice").await;
    let bob = register(&nodes.b, "bob").await;
    let carol = register(&nodes.a, "carol").await;
    let dave = register(&nodes.b, "dave").await;

    let direct = conversation(&alice, &[&bob], None).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    for n in 0..20 {
        alice_ws
            .send_and_ack(&send_frame(
                &alice,
                &direct,
                &message_id(),
                &format!("a{n}"),
            ))
            .await;
    }
    assert_eq!(
        receive(&mut bob_ws, 20).await,
        (0..20).map(|n| format!("a{n}")).collect::<Vec<_>>()
    );
    for n in 0..20 {
        bob_ws
            .send_and_ack(&send_frame(&bob, &direct, &message_id(), &format!("b{n}")))
            .await;
    }
    assert_eq!(
        receive(&mut alice_ws, 20).await,
        (0..20).map(|n| format!("b{n}")).collect::<Vec<_>>()
    );

    // A group with members on both nodes, and alice's second tab on node B.
    let group = conversation(&alice, &[&bob, &carol, &dave], Some("both nodes")).await;
    let carol_ws = carol.ws().await;
    let dave_ws = dave.ws().await;
    let mut alice_on_b = on(&alice, &nodes.b).ws().await;
    let senders = [(&alice, 0), (&bob, 1), (&carol, 2), (&dave, 3)];
    let mut sockets = [alice_ws, bob_ws, carol_ws, dave_ws];
    let mut received: Vec<Vec<String>> = vec![Vec::new(); 4];
    for round in 0..5 {
        for (user, index) in &senders {
            let frame = send_frame(
                user,
                &group,
                &message_id(),
                &format!("{}-{round}", user.username),
            );
            send_collecting(&mut sockets[*index], &frame, &mut received[*index]).await;
        }
    }
    // Everyone gets everyone else's 15, once each; alice's tab on node B gets all 20.
    for (user, index) in &senders {
        let missing = 15 - received[*index].len();
        let mut got = std::mem::take(&mut received[*index]);
        got.extend(receive(&mut sockets[*index], missing).await);
        assert!(
            got.iter().all(|c| !c.starts_with(&user.username)),
            "no echo"
        );
        let mut unique = got.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 15, "{} got {got:?}", user.username);
    }
    let all = receive(&mut alice_on_b, 20).await;
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 20);

    // Every message is stored once, and both nodes serve the same history.
    let from_a: Value = alice
        .get(&format!("/api/v1/chat/{group}?limit=100"))
        .await
        .json()
        .await
        .unwrap();
    let from_b: Value = on(&alice, &nodes.b)
        .get(&format!("/api/v1/chat/{group}?limit=100"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(from_a["messages"].as_array().unwrap().len(), 20);
    assert_eq!(from_a, from_b);
    let _ = nodes.db_url;
}

#[tokio::test]
async fn a_node_whose_listener_drops_catches_up_on_what_the_other_stored_meanwhile() {
    let nodes = two_nodes().await;
    let alice = register(&nodes.a, "alice").await;
    let bob = register(&nodes.b, "bob").await;
    let direct = conversation(&alice, &[&bob], None).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    alice_ws
        .send_and_ack(&send_frame(&alice, &direct, &message_id(), "before"))
        .await;
    assert_eq!(receive(&mut bob_ws, 1).await, ["before"]);

    // Keep cutting every node's LISTEN connection while node A stores
    // messages: wake-ups are lost, and what the listener missed has to come
    // from the table when it is back.
    let options: sqlx::postgres::PgConnectOptions = nodes.db_url.parse().unwrap();
    let admin = sqlx::PgPool::connect_with(options).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cutter = tokio::spawn({
        let (admin, stop) = (admin.clone(), stop.clone());
        async move {
            let mut cuts = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let cut: Vec<bool> = sqlx::query_scalar(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
                )
                .fetch_all(&admin)
                .await
                .unwrap();
                cuts += cut.len();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            cuts
        }
    });
    let mut sent: HashMap<String, usize> = HashMap::new();
    for n in 0..30 {
        let content = format!("during {n}");
        alice_ws
            .send_and_ack(&send_frame(&alice, &direct, &message_id(), &content))
            .await;
        *sent.entry(content).or_default() += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        cutter.await.unwrap() >= 4,
        "the listeners were cut repeatedly"
    );
    let got = receive(&mut bob_ws, 30).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for content in got {
        *counts.entry(content).or_default() += 1;
    }
    assert_eq!(counts, sent, "every message once, none lost");
}

/// Notifications on the wake-up channel within `wait`.
async fn notifications(listener: &mut sqlx::postgres::PgListener, wait: Duration) -> Vec<String> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, listener.recv()).await {
        got.push(n.payload().to_owned());
    }
    got
}

#[tokio::test]
async fn a_node_alone_sends_no_wake_ups_and_starts_when_another_node_says_hello() {
    let server = crate::common::TestServer::start().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&server.db)
        .await
        .unwrap();
    listener.listen("natter_messages").await.unwrap();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    for n in 0..5 {
        let frame = alice.send_frame(conversation, &message_id(), &format!("alone {n}"));
        ws.send_and_ack(&frame).await;
    }
    let heard = notifications(&mut listener, Duration::from_millis(300)).await;
    assert!(
        !heard.iter().any(|p| p.starts_with("m;")),
        "no node to wake, no wake-up (only the node's own hello): {heard:?}"
    );

    // Another node announces itself: this one answers, and wakes it from now on.
    let newcomer = uuid::Uuid::now_v7().simple().to_string();
    sqlx::query("SELECT pg_notify('natter_messages', $1)")
        .bind(format!("hello;{newcomer}"))
        .execute(&server.db)
        .await
        .unwrap();
    let heard = notifications(&mut listener, Duration::from_millis(500)).await;
    assert!(heard.iter().any(|p| p.starts_with("here;")), "{heard:?}");
    let frame = alice.send_frame(conversation, &message_id(), "not alone");
    ws.send_and_ack(&frame).await;
    let heard = notifications(&mut listener, Duration::from_millis(500)).await;
    let wake = format!("{}:", conversation.0.simple());
    assert!(
        heard
            .iter()
            .any(|p| p.starts_with("m;") && p.contains(&wake)),
        "{heard:?}"
    );
}

/// The retry of a message stored by a node that died before it answered
/// (or told anyone) reaches its recipients on the other node too, once.
#[tokio::test]
async fn a_stored_message_nobody_was_told_of_reaches_the_other_node_on_the_retry() {
    let nodes = two_nodes().await;
    let alice = register(&nodes.a, "alice").await;
    let bob = register(&nodes.b, "bob").await;
    let direct = conversation(&alice, &[&bob], None).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    // Both nodes know of each other before it matters.
    alice_ws
        .send_and_ack(&send_frame(&alice, &direct, &message_id(), "hello"))
        .await;
    assert_eq!(receive(&mut bob_ws, 1).await, ["hello"]);

    let db = sqlx::PgPool::connect(&nodes.db_url).await.unwrap();
    let id = message_id();
    let conversation_id = natter::protocol::ConversationId::parse(&direct).unwrap();
    crate::common::store_unannounced(&db, conversation_id, &alice, &id, "stored, untold").await;
    assert!(bob_ws.try_recv(Duration::from_millis(300)).await.is_none());

    let retry = send_frame(&alice, &direct, &id, "stored, untold");
    alice_ws.send_and_ack(&retry).await;
    assert_eq!(receive(&mut bob_ws, 1).await, ["stored, untold"]);
    alice_ws.send_and_ack(&retry).await;
    assert!(
        bob_ws.try_recv(Duration::from_millis(300)).await.is_none(),
        "a second retry pushes nothing"
    );
}

/// The next frame about `id` on `ws` (its ack or its error), skipping the
/// rest.
async fn answer_to(ws: &mut WsClient, id: &str) -> Value {
    loop {
        let frame = ws.recv().await;
        if frame["payload"]["message_id"] == id {
            return frame;
        }
    }
}

#[tokio::test]
async fn leaving_and_blocking_through_one_node_hold_on_the_other() {
    let nodes = two_nodes().await;
    let alice = register(&nodes.a, "alice").await;
    let bob = register(&nodes.a, "bob").await;
    let carol = register(&nodes.b, "carol").await;
    let group = conversation(&alice, &[&bob, &carol], None).await;
    let direct = conversation(&alice, &[&carol], None).await;
    // Node B knows the group's members and node A the direct chat's (each
    // has carried a message there), so what they remember has to be
    // corrected by what the other node did.
    let bob_on_b = on(&bob, &nodes.b);
    let mut bob_ws_b = bob_on_b.ws().await;
    let mut carol_ws = carol.ws().await;
    let mut alice_ws_a = alice.ws().await;
    bob_ws_b
        .send_and_ack(&send_frame(&bob, &group, &message_id(), "hi"))
        .await;
    alice_ws_a
        .send_and_ack(&send_frame(&alice, &direct, &message_id(), "hey carol"))
        .await;
    assert_eq!(receive(&mut carol_ws, 2).await, ["hi", "hey carol"]);

    // Bob leaves through node A: carol's and Bob's sockets on B hear it,
    // and B no longer lets him write.
    let left = bob
        .client()
        .post(format!(
            "{}/api/v1/conversations/{group}/leave",
            nodes.a.base
        ))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    let told = json!({"event": "conversation.left",
                      "payload": {"conversation_id": group, "user_id": bob.id}});
    assert_eq!(carol_ws.recv().await, told);
    let bobs = loop {
        let frame = bob_ws_b.recv().await;
        if frame["event"] == "conversation.left" {
            break frame;
        }
    };
    assert_eq!(bobs, told);
    let id = message_id();
    bob_ws_b
        .send_json(&send_frame(&bob, &group, &id, "still here?"))
        .await;
    let refused = answer_to(&mut bob_ws_b, &id).await;
    assert_eq!(refused["payload"]["code"], "forbidden", "{refused}");

    // Carol blocks Alice through node B: node A refuses the direct chat as
    // soon as it hears (the cross-node wake-up, milliseconds; a send that
    // gets there first is still taken).
    let blocked = carol
        .client()
        .put(format!("{}/api/v1/users/{}/block", nodes.b.base, alice.id))
        .bearer_auth(&carol.token)
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::NO_CONTENT);
    let started = std::time::Instant::now();
    loop {
        let id = message_id();
        alice_ws_a
            .send_json(&send_frame(&alice, &direct, &id, "hello?"))
            .await;
        let answer = answer_to(&mut alice_ws_a, &id).await;
        if answer["event"] == "error" {
            assert_eq!(answer["payload"]["code"], "forbidden", "{answer}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "node A still takes messages for the blocked chat"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let id = message_id();
    alice_ws_a
        .send_json(&send_frame(&alice, &direct, &id, "and again?"))
        .await;
    let refused = answer_to(&mut alice_ws_a, &id).await;
    assert_eq!(refused["payload"]["code"], "forbidden", "and stays refused");
}

#[tokio::test]
async fn logging_out_through_one_node_closes_the_sessions_sockets_on_both() {
    let nodes = two_nodes().await;
    let alice = register(&nodes.a, "alice").await;
    let mut on_a = alice.ws().await;
    let mut on_b = on(&alice, &nodes.b).ws().await;
    // Another session of hers (another device) stays.
    let phone = nodes.b.login(&alice.username).await;
    let mut phone_ws = phone.ws().await;

    let logout = alice.post("/api/v1/auth/logout", &json!({})).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(on_a.next_close().await, Some(4001));
    assert_eq!(on_b.next_close().await, Some(4001), "node B closed it too");
    phone_ws.expect_silence(Duration::from_millis(300)).await;
    let bob = register(&nodes.a, "bob").await;
    let chat = conversation(&bob, &[&phone], None).await;
    let mut bob_ws = bob.ws().await;
    bob_ws
        .send_and_ack(&send_frame(&bob, &chat, &message_id(), "still there?"))
        .await;
    assert_eq!(receive(&mut phone_ws, 1).await, ["still there?"]);
}

#[tokio::test]
async fn typing_on_one_node_reaches_the_others_on_the_other_node() {
    let nodes = two_nodes().await;
    let alice = register(&nodes.a, "alice").await;
    let bob = register(&nodes.b, "bob").await;
    let chat = conversation(&alice, &[&bob], None).await;
    let mut alice_a = alice.ws().await;
    let mut alice_b = on(&alice, &nodes.b).ws().await;
    let mut bob_b = bob.ws().await;
    let mut bob_a = on(&bob, &nodes.a).ws().await;
    for (event, expected) in [("typing", "typing"), ("typing.stop", "typing.stop")] {
        alice_a
            .send_json(&json!({"event": event, "payload": {"conversation_id": chat}}))
            .await;
        for ws in [&mut bob_b, &mut bob_a] {
            let payload = ws.expect_event(expected).await;
            assert_eq!(payload["user_id"], json!(alice.id));
            assert_eq!(payload["conversation_id"], chat.as_str());
        }
    }
    // Her own tab on the other node hears nothing of it.
    alice_b.expect_silence(Duration::from_millis(300)).await;
}
