//! The send path with several batches committing at once
//! (`send-batches-in-flight`, after `send-overlap-after-ms`): a batch held
//! up holds up only its own chats and senders, and order holds as with one
//! batch, because a conversation and a connection are in one batch in
//! flight at a time.

use crate::common::{TestServer, TestUser, message_id};
use crate::ws_send::acks_and_receives;
use natter::protocol::ConversationId;
use serde_json::Value;

/// Small batches, a second one at once: a burst makes many, two in flight.
const PIPELINED: &[(&str, &str)] = &[
    ("NATTER_SEND_BATCHES_IN_FLIGHT", "2"),
    ("NATTER_SEND_BATCH_MAX", "3"),
    ("NATTER_SEND_OVERLAP_AFTER_MS", "0"),
];

/// Each stored message's id and change, oldest first.
async fn stored(user: &TestUser, conversation: ConversationId) -> Vec<(String, i64)> {
    let response = user
        .get(&format!("/api/v1/chat/{conversation}?limit=100"))
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    let mut stored: Vec<(String, i64)> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let id = m["message_id"].as_str().unwrap().to_owned();
            (id, m["change"].as_i64().unwrap())
        })
        .collect();
    stored.reverse();
    stored
}

async fn stored_ids(user: &TestUser, conversation: ConversationId) -> Vec<String> {
    stored(user, conversation)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test]
async fn with_batches_in_flight_together_acks_follow_the_frames_and_each_chat_keeps_its_order() {
    let server = TestServer::start_with(PIPELINED).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let with_bob = server.conversation(&alice, &[&bob]).await;
    let with_carol = server.conversation(&alice, &[&carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let mut carol_ws = carol.ws().await;

    // Alice alternates between her two chats without waiting, while Bob
    // and Carol each answer in theirs: many batches of three, two at once.
    let count = 60;
    let plan: Vec<(ConversationId, String)> = (0..count)
        .map(|n| (if n % 2 == 0 { with_bob } else { with_carol }, message_id()))
        .collect();
    let bob_ids: Vec<String> = (0..count / 2).map(|_| message_id()).collect();
    let carol_ids: Vec<String> = (0..count / 2).map(|_| message_id()).collect();
    let frames = |user: &TestUser, chat: ConversationId, ids: &[String]| -> Vec<String> {
        ids.iter()
            .enumerate()
            .map(|(n, id)| user.send_frame(chat, id, &format!("m{n}")).to_string())
            .collect()
    };
    let alice_frames: Vec<String> = plan
        .iter()
        .enumerate()
        .map(|(n, (chat, id))| alice.send_frame(*chat, id, &format!("a{n}")).to_string())
        .collect();
    let bob_frames = frames(&bob, with_bob, &bob_ids);
    let carol_frames = frames(&carol, with_carol, &carol_ids);
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
        },
        async {
            for frame in &carol_frames {
                carol_ws.send_text(frame).await;
            }
        }
    );

    let alice_ids: Vec<String> = plan.iter().map(|(_, id)| id.clone()).collect();
    let to = |chat: ConversationId| -> Vec<String> {
        plan.iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, id)| id.clone())
            .collect()
    };
    let (alice_acks, alice_got) = acks_and_receives(&mut alice_ws, count + count).await;
    let (bob_acks, bob_got) = acks_and_receives(&mut bob_ws, count / 2 + count / 2).await;
    let (carol_acks, carol_got) = acks_and_receives(&mut carol_ws, count / 2 + count / 2).await;
    // One connection's acks come in the order of its frames, across chats.
    assert_eq!(alice_acks, alice_ids);
    assert_eq!(bob_acks, bob_ids);
    assert_eq!(carol_acks, carol_ids);
    // Each chat: delivered in the stored order, each sender's in send order.
    for (chat, theirs, got_by_them, their_ids) in [
        (with_bob, &bob, &bob_got, &bob_ids),
        (with_carol, &carol, &carol_got, &carol_ids),
    ] {
        let stored = stored_ids(theirs, chat).await;
        assert_eq!(stored.len(), count);
        let mine = to(chat);
        let of = |ids: &[String]| -> Vec<String> {
            stored.iter().filter(|s| ids.contains(s)).cloned().collect()
        };
        assert_eq!(&of(&mine), got_by_them, "delivery follows the stored order");
        assert_eq!(of(&mine), mine);
        assert_eq!(&of(their_ids), their_ids);
        let alice_got_here: Vec<String> = alice_got
            .iter()
            .filter(|id| their_ids.contains(id))
            .cloned()
            .collect();
        assert_eq!(&alice_got_here, their_ids);
    }
}

#[tokio::test]
async fn a_batch_held_up_in_the_database_holds_up_only_its_own_chat_and_sender() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let stuck = server.conversation(&alice, &[&bob]).await;
    let other = server.conversation(&alice, &[&carol]).await;
    let free = server.conversation(&bob, &[&carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    // Something else holds the stuck chat's row: the batch storing Alice's
    // message there waits for it.
    let mut lock = server.db.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(stuck.0)
        .execute(&mut *lock)
        .await
        .unwrap();
    let (first, second, bobs) = (message_id(), message_id(), message_id());
    alice_ws
        .send_text(&alice.send_frame(stuck, &first, "first").to_string())
        .await;
    // Let that batch start before the rest is queued.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    alice_ws
        .send_text(&alice.send_frame(other, &second, "second").to_string())
        .await;
    bob_ws
        .send_text(&bob.send_frame(free, &bobs, "meanwhile").to_string())
        .await;
    // Bob's message, in another chat from another connection, goes by.
    let ack = bob_ws.recv().await;
    assert_eq!(ack["event"], "message.ack");
    assert_eq!(ack["payload"]["message_id"], bobs.as_str());
    // Alice's second waits for her first: her acks keep her frames' order.
    alice_ws
        .expect_silence(std::time::Duration::from_millis(300))
        .await;
    lock.rollback().await.unwrap();
    let (acks, _) = acks_and_receives(&mut alice_ws, 2).await;
    assert_eq!(acks, [first, second]);
}

/// Retries among new messages (a client resending its outbox after a
/// reconnect while its user goes on typing), in small batches: a batch that
/// holds a retry stores its new messages once, the retry is acked as stored
/// and not delivered again, and no place or change is skipped.
#[tokio::test]
async fn retries_among_new_messages_are_acked_and_the_new_ones_stored_once_without_gaps() {
    let server = TestServer::start_with(&[("NATTER_SEND_BATCH_MAX", "3")]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    let old: Vec<Value> = (0..5)
        .map(|n| alice.send_frame(chat, &message_id(), &format!("old {n}")))
        .collect();
    let mut first_acks = Vec::new();
    for frame in &old {
        first_acks.push(alice_ws.send_and_ack(frame).await);
    }
    let id_of = |frame: &Value| frame["payload"]["message_id"].as_str().unwrap().to_owned();
    let old_ids: Vec<String> = old.iter().map(id_of).collect();
    assert_eq!(acks_and_receives(&mut bob_ws, 5).await.1, old_ids);

    // A burst of 20 new ones with each old one again in between.
    let mut burst = Vec::new();
    let mut new_ids = Vec::new();
    for n in 0..20 {
        let frame = alice.send_frame(chat, &message_id(), &format!("new {n}"));
        new_ids.push(id_of(&frame));
        burst.push(frame);
        if n % 4 == 1 {
            burst.push(old[n / 4].clone());
        }
    }
    for frame in &burst {
        alice_ws.send_text(&frame.to_string()).await;
    }
    let mut acks = Vec::new();
    while acks.len() < burst.len() {
        let frame = alice_ws.recv().await;
        assert_eq!(frame["event"], "message.ack", "{frame}");
        acks.push(frame);
    }
    let acked: Vec<String> = acks
        .iter()
        .map(|a| a["payload"]["message_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(acked, burst.iter().map(id_of).collect::<Vec<_>>());
    for (k, first) in first_acks.iter().enumerate() {
        let again = acks
            .iter()
            .find(|a| a["payload"]["message_id"] == first["payload"]["message_id"]);
        assert_eq!(again, Some(first), "retry {k} is acked as first stored");
    }
    assert_eq!(acks_and_receives(&mut bob_ws, 20).await.1, new_ids);
    bob_ws
        .expect_silence(std::time::Duration::from_millis(300))
        .await;

    let stored = stored(&bob, chat).await;
    let ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        ids,
        [old_ids, new_ids].concat(),
        "each stored once, in order"
    );
    let changes: Vec<i64> = stored.iter().map(|(_, change)| *change).collect();
    assert_eq!(changes, (1..=25).collect::<Vec<i64>>(), "no change skipped");
}
