//! The send path over real sockets: ack after commit, who gets
//! `message.receive`, idempotent retries, conflicts, the clock rule and
//! order.

use crate::common::{TestServer, TestUser, WsClient, message_id, now_ms};
use natter::protocol::ConversationId;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// Every message of a conversation as `user` pages through its history,
/// oldest first.
async fn history(user: &TestUser, conversation: ConversationId) -> Vec<Value> {
    let mut cursor = String::new();
    let mut all = Vec::new();
    loop {
        let response = user
            .get(&format!("/api/v1/chat/{conversation}?limit=100{cursor}"))
            .await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        all.extend(page["messages"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    all.reverse();
    all
}

fn frame_with_timestamp(user: &TestUser, conversation: ConversationId, id: &str, ts: i64) -> Value {
    json!({"event": "message.send", "payload": {
        "conversation_id": conversation, "sender_id": user.id,
        "message_id": id, "content": format!("sent at {ts}"), "timestamp": ts}})
}

#[tokio::test]
async fn the_ack_waits_for_the_commit_and_the_row_is_there_when_it_arrives() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    // Another transaction holds the conversation's row, so the batch that
    // stores the message cannot commit until it lets go.
    let mut blocker = server.db.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(conversation)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let id = message_id();
    let frame = alice.send_frame(conversation, &id, "wait for it");
    alice_ws.send_json(&frame).await;
    alice_ws.expect_silence(QUIET).await;
    bob_ws.expect_silence(Duration::from_millis(50)).await;
    assert_eq!(server.message_count().await, 0);

    blocker.rollback().await.unwrap();
    let ack = alice_ws.expect_event("message.ack").await;
    // Read right after the ack, from another connection: committed.
    assert!(
        server.stored(&id).await.is_some(),
        "the acked message is stored"
    );
    assert_eq!(
        ack,
        json!({"conversation_id": conversation, "message_id": id,
               "timestamp": frame["payload"]["timestamp"], "change": 1}),
        "the ack is exactly the spec's"
    );
    let received = bob_ws.expect_event("message.receive").await;
    let mut expected = frame["payload"].clone();
    expected["change"] = json!(1);
    assert_eq!(
        received, expected,
        "Bob gets the message as sent, and its change"
    );
}

#[tokio::test]
async fn no_echo_to_the_sending_connection_but_every_other_tab_gets_it() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut alice_tab1 = alice.ws().await;
    let mut alice_tab2 = alice.ws().await;
    let mut bob_phone = bob.ws().await;
    let mut bob_laptop = bob.ws().await;

    let id = message_id();
    let frame = alice.send_frame(conversation, &id, "hi Bob");
    let ack = alice_tab1.send_and_ack(&frame).await;
    assert_eq!(
        keys(&ack["payload"]),
        ["change", "conversation_id", "message_id", "timestamp"]
            .map(String::from)
            .into()
    );
    let mut expected = frame["payload"].clone();
    expected["change"] = json!(1);
    for (who, ws) in [
        ("Alice's other tab", &mut alice_tab2),
        ("Bob's phone", &mut bob_phone),
        ("Bob's laptop", &mut bob_laptop),
    ] {
        let received = ws.recv().await;
        assert_eq!(received["event"], "message.receive", "{who}: {received}");
        // The payload stands alone: the spec's five fields and its change.
        assert_eq!(received["payload"], expected, "{who}");
        ws.expect_silence(Duration::from_millis(100)).await;
    }
    alice_tab1.expect_silence(QUIET).await;

    // The other way round: Bob answers from his phone.
    let id = message_id();
    bob_phone
        .send_and_ack(&bob.send_frame(conversation, &id, "hi Alice"))
        .await;
    for ws in [&mut alice_tab1, &mut alice_tab2, &mut bob_laptop] {
        assert_eq!(ws.recv().await["payload"]["message_id"], id);
    }
    bob_phone.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_group_message_reaches_every_connection_of_every_member_and_nobody_else() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let eve = server.user("eve").await;
    let group = server.conversation(&alice, &[&bob, &carol, &dave]).await;
    // Eve is in a chat with Alice, but not in the group.
    server.conversation(&eve, &[&alice]).await;

    let mut alice_ws = alice.ws().await;
    let mut members = vec![
        ("Alice's other tab", alice.ws().await),
        ("Bob", bob.ws().await),
        ("Carol 1", carol.ws().await),
        ("Carol 2", carol.ws().await),
        ("Carol 3", carol.ws().await),
        ("Dave", dave.ws().await),
    ];
    let mut eve_ws = eve.ws().await;

    let mut ids = Vec::new();
    for n in 0..3 {
        let id = message_id();
        alice_ws
            .send_and_ack(&alice.send_frame(group, &id, &format!("group {n}")))
            .await;
        ids.push(id);
    }
    for (who, ws) in &mut members {
        for id in &ids {
            let received = ws.recv().await;
            assert_eq!(received["event"], "message.receive", "{who}");
            assert_eq!(received["payload"]["message_id"], *id, "{who}: in order");
            assert_eq!(received["payload"]["conversation_id"], json!(group));
            assert_eq!(received["payload"]["sender_id"], json!(alice.id));
        }
        ws.expect_silence(Duration::from_millis(50)).await;
    }
    eve_ws.expect_silence(QUIET).await;

    // A member's reply from one of her tabs reaches everyone else, Alice's
    // sending tab included.
    let (_, mut carol1) = members.remove(2);
    let id = message_id();
    carol1
        .send_and_ack(&carol.send_frame(group, &id, "reply"))
        .await;
    assert_eq!(alice_ws.recv().await["payload"]["message_id"], id);
    for (who, ws) in &mut members {
        assert_eq!(ws.recv().await["payload"]["message_id"], id, "{who}");
    }
    carol1.expect_silence(QUIET).await;
    eve_ws.expect_silence(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn an_offline_recipient_finds_the_messages_in_history() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut sent = Vec::new();
    for n in 0..5 {
        let frame = alice.send_frame(
            conversation,
            &message_id(),
            &format!("while you were out {n}"),
        );
        alice_ws.send_and_ack(&frame).await;
        sent.push(frame["payload"].clone());
    }
    // Bob was never connected; he opens the conversation later.
    let found = history(&bob, conversation).await;
    let expected: Vec<Value> = sent
        .iter()
        .zip(1..)
        .map(|(p, change)| {
            json!({"message_id": p["message_id"], "sender_id": p["sender_id"],
                   "content": p["content"], "timestamp": p["timestamp"], "change": change})
        })
        .collect();
    assert_eq!(found, expected);
    // And his inbox shows the conversation with the last one.
    let inbox: Value = bob
        .get(&format!("/api/v1/chats/{}", bob.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["chats"][0]["last_message"], "while you were out 4");
    assert_eq!(inbox["chats"][0]["unread_count"], 5);
}

#[tokio::test]
async fn a_retry_is_acked_again_but_neither_stored_nor_delivered_twice() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    let id = message_id();
    let first = frame_with_timestamp(&alice, conversation, &id, now_ms() - 5_000);
    let ack = alice_ws.send_and_ack(&first).await;
    assert_eq!(bob_ws.recv().await["payload"]["message_id"], id);

    // The same message again on the same connection: acked with the stored
    // timestamp, nothing new anywhere.
    let again = alice_ws.send_and_ack(&first).await;
    assert_eq!(again, ack);
    // After a reconnect, with a later client clock (the retry's own send
    // time): still the same message.
    drop(alice_ws);
    let mut alice_ws = alice.ws().await;
    let mut retry = first.clone();
    retry["payload"]["timestamp"] = json!(now_ms());
    let again = alice_ws.send_and_ack(&retry).await;
    assert_eq!(
        again["payload"]["timestamp"], first["payload"]["timestamp"],
        "the ack names the stored message"
    );
    bob_ws.expect_silence(QUIET).await;
    alice_ws.expect_silence(Duration::from_millis(50)).await;
    assert_eq!(server.message_count().await, 1);
    assert_eq!(history(&bob, conversation).await.len(), 1);
}

#[tokio::test]
async fn the_same_message_sent_at_once_on_two_connections_is_stored_and_delivered_once() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut tab1 = alice.ws().await;
    let mut tab2 = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    let rounds = 20;
    let mut ids = Vec::new();
    for _ in 0..rounds {
        let id = message_id();
        let frame = alice.send_frame(conversation, &id, "double");
        let text = frame.to_string();
        // Both frames leave before either answer comes back.
        tokio::join!(tab1.send_text(&text), tab2.send_text(&text));
        ids.push(id);
    }
    for (name, tab) in [("tab 1", &mut tab1), ("tab 2", &mut tab2)] {
        let mut acked = Vec::new();
        let mut echoes = 0;
        while acked.len() < rounds {
            let frame = tab.recv().await;
            match frame["event"].as_str() {
                Some("message.ack") => {
                    acked.push(frame["payload"]["message_id"].as_str().unwrap().to_owned())
                }
                // The other tab's copy may be the one stored first; then
                // this tab hears of it like any other tab would.
                Some("message.receive") => echoes += 1,
                _ => panic!("{name}: {frame}"),
            }
        }
        assert_eq!(acked, ids, "{name}: every send acked, in order");
        while let Some(frame) = tab.try_recv(Duration::from_millis(100)).await {
            assert_eq!(frame["event"], "message.receive", "{name}: {frame}");
            echoes += 1;
        }
        assert!(echoes <= rounds, "{name}: {echoes}");
    }
    let mut received = Vec::new();
    for _ in 0..rounds {
        let frame = bob_ws.expect_event("message.receive").await;
        received.push(frame["message_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(received, ids, "Bob gets each once, in order");
    bob_ws.expect_silence(QUIET).await;
    assert_eq!(server.message_count().await, rounds as i64);
}

#[tokio::test]
async fn a_message_id_reused_in_another_conversation_or_by_another_sender_is_a_conflict() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let with_bob = server.conversation(&alice, &[&bob]).await;
    let with_carol = server.conversation(&alice, &[&carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let mut carol_ws = carol.ws().await;

    let id = message_id();
    alice_ws
        .send_and_ack(&alice.send_frame(with_bob, &id, "same words"))
        .await;
    bob_ws.expect_event("message.receive").await;

    // Same id, same words, other conversation.
    alice_ws
        .send_json(&alice.send_frame(with_carol, &id, "same words"))
        .await;
    let error = alice_ws.expect_error("conflict").await;
    assert_eq!(error["payload"]["message_id"], id);
    carol_ws.expect_silence(QUIET).await;

    // Same id, same words, same conversation, other sender.
    bob_ws
        .send_json(&bob.send_frame(with_bob, &id, "same words"))
        .await;
    bob_ws.expect_error("conflict").await;
    alice_ws.expect_silence(QUIET).await;

    // Two different messages under one id racing on two connections: one is
    // stored and acked, the other is a conflict.
    let id = message_id();
    let mut alice_tab2 = alice.ws().await;
    let one = alice.send_frame(with_bob, &id, "version one").to_string();
    let two = alice.send_frame(with_bob, &id, "version two").to_string();
    tokio::join!(alice_ws.send_text(&one), alice_tab2.send_text(&two));
    let mut outcomes = Vec::new();
    for ws in [&mut alice_ws, &mut alice_tab2] {
        loop {
            let frame = ws.recv().await;
            if frame["event"] != "message.receive" {
                outcomes.push(frame);
                break;
            }
        }
    }
    let (content, _, _) = server.stored(&id).await.unwrap();
    let winner = if content == "version one" { 0 } else { 1 };
    assert_eq!(outcomes[winner]["event"], "message.ack", "{outcomes:?}");
    assert_eq!(outcomes[1 - winner]["event"], "error", "{outcomes:?}");
    assert_eq!(outcomes[1 - winner]["payload"]["code"], "conflict");
    let received = bob_ws.expect_event("message.receive").await;
    assert_eq!(received["content"], content, "Bob gets the stored one");
    bob_ws.expect_silence(QUIET).await;
    assert_eq!(server.message_count().await, 2);
}

#[tokio::test]
async fn a_timestamp_over_60_seconds_ahead_becomes_the_servers_and_others_are_kept() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    let base = now_ms();
    let cases = [
        ("an hour ahead", base + 3_600_000, None),
        ("far future", i64::MAX, None),
        ("30 s ahead", base + 30_000, Some(base + 30_000)),
        ("a day behind", base - 86_400_000, Some(base - 86_400_000)),
        ("the epoch", 0, Some(0)),
    ];
    let mut ids = Vec::new();
    for (label, ts, kept) in cases {
        let id = message_id();
        let before = now_ms();
        let ack = alice_ws
            .send_and_ack(&frame_with_timestamp(&alice, conversation, &id, ts))
            .await;
        let after = now_ms();
        let acked = ack["payload"]["timestamp"].as_i64().unwrap();
        match kept {
            Some(kept) => assert_eq!(acked, kept, "{label}: kept as sent"),
            None => assert!(
                (before..=after).contains(&acked),
                "{label}: the server's clock ({before}..{after}), got {acked}"
            ),
        }
        let received = bob_ws.expect_event("message.receive").await;
        assert_eq!(received["timestamp"], acked, "{label}: Bob sees the same");
        let (_, _, stored) = server.stored(&id).await.unwrap();
        assert_eq!(stored, acked, "{label}: stored the same");
        ids.push((id, acked));
    }
    // History shows the same times, and the conversation keeps the order
    // the server stored it in, whatever the clocks said.
    let found = history(&bob, conversation).await;
    let found: Vec<(String, i64)> = found
        .iter()
        .map(|m| {
            (
                m["message_id"].as_str().unwrap().to_owned(),
                m["timestamp"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, ids);
}

#[tokio::test]
async fn a_burst_is_acked_delivered_and_stored_in_send_order() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let mut carol_ws = carol.ws().await;

    // Alice and Bob both fire without waiting; each one's own messages keep
    // their order everywhere, and everyone sees one shared order.
    let count = 100;
    let alice_ids: Vec<String> = (0..count).map(|_| message_id()).collect();
    let bob_ids: Vec<String> = (0..count).map(|_| message_id()).collect();
    let alice_frames: Vec<String> = alice_ids
        .iter()
        .enumerate()
        .map(|(n, id)| alice.send_frame(group, id, &format!("a{n}")).to_string())
        .collect();
    let bob_frames: Vec<String> = bob_ids
        .iter()
        .enumerate()
        .map(|(n, id)| bob.send_frame(group, id, &format!("b{n}")).to_string())
        .collect();
    tokio::join!(
        async {
            for frame in &alice_frames {
                alice_ws.send_text(frame).await;
            }
        },
        async {
            for frame in &bob_frames {
                bob_ws.send_text(frame).await;
            }
        }
    );
    // Each sender: its acks in order, the other's messages in order.
    let (alice_acks, alice_got) = acks_and_receives(&mut alice_ws, 2 * count).await;
    let (bob_acks, bob_got) = acks_and_receives(&mut bob_ws, 2 * count).await;
    let (_, carol_got) = acks_and_receives(&mut carol_ws, 2 * count).await;
    assert_eq!(alice_acks, alice_ids);
    assert_eq!(bob_acks, bob_ids);
    assert_eq!(alice_got, bob_ids);
    assert_eq!(bob_got, alice_ids);
    // Carol sees both interleaved in the stored order.
    let stored: Vec<String> = history(&carol, group)
        .await
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(carol_got, stored, "delivery follows the stored order");
    let of = |ids: &[String]| -> Vec<String> {
        stored.iter().filter(|s| ids.contains(s)).cloned().collect()
    };
    assert_eq!(of(&alice_ids), alice_ids);
    assert_eq!(of(&bob_ids), bob_ids);
}

/// The ids of the next `total` frames, split into acks and receives.
pub(crate) async fn acks_and_receives(
    ws: &mut WsClient,
    total: usize,
) -> (Vec<String>, Vec<String>) {
    let mut acks = Vec::new();
    let mut received = Vec::new();
    while acks.len() + received.len() < total {
        let frame = ws.recv().await;
        let id = frame["payload"]["message_id"].as_str().unwrap().to_owned();
        match frame["event"].as_str() {
            Some("message.ack") => acks.push(id),
            Some("message.receive") => received.push(id),
            _ => panic!("{frame}"),
        }
    }
    (acks, received)
}

/// A node that stored a batch and died before answering it leaves messages
/// stored that nobody was told of. The sender's retry finds them: acked, and
/// pushed to the others now. A second retry pushes nothing.
#[tokio::test]
async fn a_stored_message_nobody_was_told_of_goes_out_live_on_the_retry_once() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let id = message_id();
    crate::common::store_unannounced(&server.db, conversation, &alice, &id, "lost in a crash")
        .await;
    bob_ws.expect_silence(QUIET).await;

    let retry = alice.send_frame(conversation, &id, "lost in a crash");
    alice_ws.send_and_ack(&retry).await;
    let pushed = bob_ws.expect_event("message.receive").await;
    assert_eq!(pushed["message_id"], id.as_str());
    assert_eq!(pushed["content"], "lost in a crash");

    alice_ws.send_and_ack(&retry).await;
    bob_ws.expect_silence(QUIET).await;
    assert_eq!(server.message_count().await, 1);
}
