//! PostgreSQL restarted under load, for real: two natter nodes on a private
//! cluster of this test's own, people on both sending to each other, and the
//! cluster stopped (fast) and started again a few seconds later. Sends during
//! the outage are refused with `unavailable` (never acknowledged unless
//! stored), neither node dies, and both recover by themselves: the pool
//! reconnects, and so does each node's listener for the other's messages.

use crate::common::chatter::{
    Chatter, Control, Record, assert_acked_stored_once, repeated, stored, wait_ready, wait_until,
};
use crate::common::cluster::PrivateCluster;
use crate::common::conversation;
use crate::common::node::Node;
use natter::server::embedded_pg::DB_NAME;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load_refuses_sends_acks_only_what_is_stored_and_heals() {
    let started = Instant::now();
    let pg = PrivateCluster::start().await;
    let db_url = pg.cluster.url(DB_NAME);
    let env = [("DATABASE_URL", db_url.as_str())];
    let (mut a, mut b) = tokio::task::block_in_place(|| (Node::start(&env), Node::start(&env)));

    // Three pairs, one of each on either node, writing to each other.
    let mut pairs = Vec::new();
    for n in 0..3 {
        let on_a = a.user(&format!("a{n}")).await;
        let on_b = b.user(&format!("b{n}")).await;
        let chat = conversation(&on_a, &[&on_b], None).await;
        pairs.push((on_a, on_b, chat));
    }
    let (control_a, control_b) = (Control::new(&a.base), Control::new(&b.base));
    let chatters: Vec<Chatter> = pairs
        .iter()
        .flat_map(|(on_a, on_b, chat)| {
            let chat = [chat.clone()];
            [
                Chatter::spawn(on_a, &chat, 2, &control_a),
                Chatter::spawn(on_b, &chat, 2, &control_b),
            ]
        })
        .collect();
    let each = |f: &dyn Fn(&Record) -> bool| chatters.iter().all(|c| c.with(f));
    // Nobody sends before everyone can be reached.
    wait_ready(&chatters.iter().collect::<Vec<_>>()).await;
    control_a.start_producing();
    control_b.start_producing();

    wait_until("everyone has messages acknowledged", PATIENCE, || {
        each(&|r| r.acked.len() >= 10)
    })
    .await;
    pg.stop().await;
    let down_at = Instant::now();
    wait_until("everyone has a send refused", PATIENCE, || {
        each(&|r| !r.refused.is_empty())
    })
    .await;
    let first_refusal = down_at.elapsed();
    // A few seconds down in all.
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(down_at.elapsed())).await;
    assert!(
        a.is_running() && b.is_running(),
        "no node dies with its database"
    );
    let acked_while_down: Vec<usize> = chatters.iter().map(|c| c.with(|r| r.acked.len())).collect();
    pg.start_again().await;
    let up_at = Instant::now();

    // Both nodes store again, by themselves.
    wait_until("everyone's sends are acknowledged again", PATIENCE, || {
        chatters
            .iter()
            .zip(&acked_while_down)
            .all(|(c, before)| c.with(|r| r.acked.len() >= before + 10))
    })
    .await;
    let recovered_in = up_at.elapsed();
    control_a.stop_producing();
    control_b.stop_producing();
    wait_until("everything is acknowledged", PATIENCE, || {
        each(&|r| r.unacked() == 0)
    })
    .await;

    // Each message stored by the send that was acknowledged reaches the
    // other person live, across nodes, the ones before the outage (caught
    // up from the table) and after it (the listener is back) alike.
    for pair in chatters.chunks(2) {
        for (from, to) in [(&pair[0], &pair[1]), (&pair[1], &pair[0])] {
            let expected: HashSet<String> = from.with(|r| r.acked_first_time().cloned().collect());
            wait_until(
                &format!("{} has {}'s messages", to.user.username, from.user.username),
                PATIENCE,
                || {
                    to.with(|r| {
                        expected
                            .iter()
                            .all(|id| r.received_ids().any(|got| got == id))
                    })
                },
            )
            .await;
        }
    }
    control_a.stop();
    control_b.stop();
    let mut records = Vec::new();
    for chatter in chatters {
        let user = chatter.user.clone();
        records.push((user, chatter.finish(PATIENCE).await));
    }

    // Every ack is backed by a row, and the outage doubled nothing.
    let refs: Vec<_> = records.iter().map(|(u, r)| (u, r)).collect();
    let rows = assert_acked_stored_once(&db_url, &refs).await;
    let made: usize = records.iter().map(|(_, r)| r.made.len()).sum();
    assert_eq!(rows, made, "everything made is stored in the end, once");
    let stored = stored(&db_url).await;
    let refused: usize = records.iter().map(|(_, r)| r.refused.len()).sum();
    let mut slowest = Duration::ZERO;
    for (user, record) in &records {
        assert!(
            record.refused.iter().all(|(_, code)| code == "unavailable"),
            "{}: {:?}",
            user.username,
            record.refused
        );
        // Answered, even while the database was down, within the pool's
        // wait for a connection (5 s) and some slack.
        assert!(
            record.slowest_answer < Duration::from_secs(8),
            "{} waited {:?} for an answer",
            user.username,
            record.slowest_answer
        );
        slowest = slowest.max(record.slowest_answer);
        assert_eq!(
            record.connections, 1,
            "{}'s socket stayed open",
            user.username
        );
        assert!(
            repeated(record.received_ids()).is_empty(),
            "{} got a message twice",
            user.username
        );
        for id in record.received_ids() {
            assert!(stored.contains_key(id), "pushed but not stored: {id}");
        }
    }
    assert!(a.is_running() && b.is_running(), "no node died");
    eprintln!(
        "db_restart: {made} messages, {refused} refusals; first refusal {first_refusal:?} after \
         the stop, slowest answer {slowest:?}, storing again {recovered_in:?} after the start; \
         {:?} in all",
        started.elapsed()
    );
    drop((a, b));
}

/// One connection cut rather than the whole database: PostgreSQL ends the
/// session a node wakes the others from (as a restart, an administrator or
/// a connection pooler may). The next wake-up fails on the dead connection;
/// it must still reach the other node, or a message acknowledged on one node
/// never shows up live on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_wake_up_connection_loses_no_delivery_to_the_other_node() {
    let db_url = crate::common::fresh_database_url().await;
    let env = [("DATABASE_URL", db_url.as_str())];
    let (a, b) = tokio::task::block_in_place(|| (Node::start(&env), Node::start(&env)));
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let chat = conversation(&alice, &[&bob], None).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let db = sqlx::PgPool::connect(&db_url).await.unwrap();

    for round in 0..3 {
        let content = format!("round {round}");
        alice_ws
            .send_and_ack(&alice.send_frame(
                chat.parse().unwrap(),
                &crate::common::message_id(),
                &content,
            ))
            .await;
        let got = bob_ws.expect_event("message.receive").await;
        assert_eq!(got["content"], content.as_str());
        // Every wake-up connection of this database (the one node A just
        // used among them) is ended by the server.
        let cut: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
               AND query LIKE 'SELECT pg_notify%'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert!(!cut.is_empty(), "node A's wake-up connection was found");
    }
    drop((a, b));
}
