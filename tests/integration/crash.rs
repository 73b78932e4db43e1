//! `kill -9` under load: natter dies with sends in flight, comes back on the
//! same port and database, and its clients reconnect and resend whatever was
//! never acknowledged. Every acknowledged message is stored, none twice, and
//! everyone ends up looking at the same history.

use crate::common::chatter::{
    Chatter, Control, assert_acked_stored_once, history, stored, wait_ready, wait_until,
};
use crate::common::conversation;
use crate::common::fresh_database_url;
use crate::common::node::Node;
use natter::protocol::ConversationId;
use sqlx::{Connection, PgConnection};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Acknowledged messages to wait for before the kill, and again after the
/// restart.
const LOAD: usize = 200;
const PATIENCE: Duration = Duration::from_secs(30);

/// Some other session of this database waits for a row lock.
const WAITING_FOR_LOCK: &str = "SELECT count(*) > 0 FROM pg_stat_activity \
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'";
/// No other session of this database is running a statement.
const NONE_ACTIVE: &str = "SELECT count(*) = 0 FROM pg_stat_activity \
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' \
    AND backend_type = 'client backend'";

/// Polls `query` (one boolean) until it is true.
async fn wait_for_db(what: &str, db: &mut PgConnection, query: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let done: bool = sqlx::query_scalar(query).fetch_one(&mut *db).await.unwrap();
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_load_loses_nothing_acknowledged_and_stores_nothing_twice() {
    let started = Instant::now();
    let db_url = fresh_database_url().await;
    let env = [("DATABASE_URL", db_url.as_str())];
    let mut node = tokio::task::block_in_place(|| Node::start(&env));
    let addr = node.addr().to_owned();

    // Ten people in three groups that share members, and two direct chats.
    let mut users = Vec::new();
    for n in 0..10 {
        users.push(node.user(&format!("u{n}")).await);
    }
    let shapes: [&[usize]; 5] = [
        &[0, 1, 2, 3],
        &[3, 4, 5, 6],
        &[6, 7, 8, 9],
        &[0, 9],
        &[2, 5],
    ];
    let mut conversations: Vec<(String, &[usize])> = Vec::new();
    for members in shapes {
        let others: Vec<_> = members[1..].iter().map(|&m| &users[m]).collect();
        conversations.push((
            conversation(&users[members[0]], &others, None).await,
            members,
        ));
    }

    // Each sends continuously, up to four messages in flight at once.
    let control = Control::new(&node.base);
    let chatters: Vec<Chatter> = users
        .iter()
        .enumerate()
        .map(|(n, user)| {
            let theirs: Vec<String> = conversations
                .iter()
                .filter(|(_, members)| members.contains(&n))
                .map(|(id, _)| id.clone())
                .collect();
            Chatter::spawn(user, &theirs, 4, &control)
        })
        .collect();
    let acked = || -> usize { chatters.iter().map(|c| c.with(|r| r.acked.len())).sum() };
    wait_ready(&chatters.iter().collect::<Vec<_>>()).await;
    control.start_producing();

    wait_until("the first messages are acknowledged", PATIENCE, || {
        acked() >= LOAD
    })
    .await;

    // Catch a batch between its commit and its acks, for certain: hold the
    // busiest conversation's row so the next batch waits inside PostgreSQL,
    // freeze natter, let the batch commit, and only then kill natter. Those
    // messages are stored, and nobody was told.
    let mut admin = sqlx::PgConnection::connect(&db_url).await.unwrap();
    let mut blocker = admin.begin().await.unwrap();
    let busiest: uuid::Uuid = conversations[0].0.parse::<ConversationId>().unwrap().0;
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(busiest)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let mut watcher = sqlx::PgConnection::connect(&db_url).await.unwrap();
    wait_for_db("a batch waits for the row", &mut watcher, WAITING_FOR_LOCK).await;
    node.signal("STOP");
    blocker.commit().await.unwrap();
    wait_for_db("the batch has committed", &mut watcher, NONE_ACTIVE).await;
    node.signal("KILL");
    let status = tokio::task::block_in_place(|| node.wait_exit(PATIENCE)).expect("it dies");
    assert!(!status.success(), "killed, not exited: {status}");
    drop(node);
    let acked_at_kill = acked();
    let stored_at_kill = stored(&db_url).await;
    let killed_at = Instant::now();

    // Back on the same port and database; the clients find it by themselves.
    let node = tokio::task::block_in_place(|| {
        Node::start(&[
            ("DATABASE_URL", db_url.as_str()),
            ("LEPTOS_SITE_ADDR", &addr),
        ])
    });
    assert_eq!(node.addr(), addr);
    wait_until("sending goes on after the restart", PATIENCE, || {
        acked() >= acked_at_kill + LOAD
    })
    .await;
    let recovered_in = killed_at.elapsed();
    control.stop();
    let mut records = Vec::new();
    for chatter in chatters {
        let user = chatter.user.clone();
        records.push((user, chatter.finish(PATIENCE).await));
    }

    // The kill really caught sends in flight, and they were sent again.
    let in_flight: usize = records
        .iter()
        .map(|(_, r)| r.endings[0].unanswered.len())
        .sum();
    assert!(in_flight > 0, "the kill caught no send in flight");
    for (user, record) in &records {
        assert_eq!(
            record.endings[0].code, None,
            "{}: a killed server sends no close frame (the socket broke: {:?})",
            user.username, record.endings[0].error
        );
        assert!(record.connections >= 2, "{} reconnected", user.username);
        assert_eq!(
            record.unacked(),
            0,
            "{}: everything is acknowledged in the end",
            user.username
        );
    }
    let resent: usize = records.iter().map(|(_, r)| r.resent).sum();
    assert!(resent >= in_flight);
    let committed_unacked = records
        .iter()
        .flat_map(|(_, r)| &r.endings[0].unanswered)
        .filter(|id| stored_at_kill.contains_key(*id))
        .count();
    assert!(
        committed_unacked > 0,
        "the kill came between a commit and its acks"
    );

    // Every acknowledged message is stored once, as it was sent.
    let refs: Vec<_> = records.iter().map(|(u, r)| (u, r)).collect();
    let rows = assert_acked_stored_once(&db_url, &refs).await;
    let made: usize = records.iter().map(|(_, r)| r.made.len()).sum();
    assert_eq!(rows, made, "one row per message made");

    // Everyone in a conversation sees the same history: every message of it
    // once, each person's in the order they sent them.
    let by_user: HashMap<String, &crate::common::chatter::Record> =
        records.iter().map(|(u, r)| (u.id.to_string(), r)).collect();
    for (conversation, members) in &conversations {
        let seen_by_first = history(&users[members[0]], conversation).await;
        for &m in &members[1..] {
            assert_eq!(
                history(&users[m], conversation).await,
                seen_by_first,
                "{} sees the same history",
                users[m].username
            );
        }
        for &m in *members {
            let sender = users[m].id.to_string();
            let sent: Vec<&str> = by_user[&sender]
                .made
                .iter()
                .filter(|made| made.conversation == *conversation)
                .map(|made| made.id.as_str())
                .collect();
            let shown: Vec<&str> = seen_by_first
                .iter()
                .filter(|(_, from, _)| *from == sender)
                .map(|(id, _, _)| id.as_str())
                .collect();
            assert_eq!(
                shown, sent,
                "{}'s messages, all of them once and in order",
                users[m].username
            );
        }
    }
    eprintln!(
        "crash: {made} messages ({acked_at_kill} acknowledged before the kill, {in_flight} in \
         flight at it of which {committed_unacked} committed, {resent} resends), back {recovered_in:?} after the kill with {LOAD} more \
         acknowledged; {:?} in all",
        started.elapsed()
    );
}
