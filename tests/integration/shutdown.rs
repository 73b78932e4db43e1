//! SIGTERM under load: natter stops accepting at once, answers every send it
//! was given (an ack, or `unavailable`), finishes the HTTP request in
//! progress, closes every WebSocket with 1012 (service restart) and exits by
//! itself within its bound. Its clients move to the other node and resend
//! what was refused; nothing acknowledged is lost, nothing is doubled, and
//! the people on the other node get every message once.

use crate::common::chatter::{
    Chatter, Control, assert_acked_stored_once, repeated, wait_ready, wait_until,
};
use crate::common::conversation;
use crate::common::node::Node;
use crate::common::{fresh_database_url, ws_request};
use natter::server::startup::SHUTDOWN_BOUND;
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATIENCE: Duration = Duration::from_secs(30);
/// Messages each sender may have unacknowledged at once.
const WINDOW: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_every_send_closes_with_1012_and_exits_in_time() {
    let started = Instant::now();
    let db_url = fresh_database_url().await;
    let env = [("DATABASE_URL", db_url.as_str())];
    let (mut a, b) = tokio::task::block_in_place(|| (Node::start(&env), Node::start(&env)));

    // Six people on node A, in three groups, each with someone on node B
    // who only listens.
    let mut groups = Vec::new();
    for n in 0..3 {
        let first = a.user(&format!("s{n}a")).await;
        let second = a.user(&format!("s{n}b")).await;
        let listener = b.user(&format!("r{n}")).await;
        let chat = conversation(&first, &[&second, &listener], None).await;
        groups.push((first, second, listener, chat));
    }
    let senders_control = Control::new(&a.base);
    let listeners_control = Control::new(&b.base);
    let mut senders = Vec::new();
    let mut listeners = Vec::new();
    for (first, second, listener, chat) in &groups {
        let chat = [chat.clone()];
        senders.push(Chatter::spawn(first, &chat, WINDOW, &senders_control));
        senders.push(Chatter::spawn(second, &chat, WINDOW, &senders_control));
        listeners.push(Chatter::spawn(listener, &chat, 1, &listeners_control));
    }
    // Nobody sends before everyone can be reached.
    wait_ready(&senders.iter().chain(&listeners).collect::<Vec<_>>()).await;
    senders_control.start_producing();
    wait_until("every sender has messages acknowledged", PATIENCE, || {
        senders.iter().all(|s| s.with(|r| r.acked.len() >= 20))
    })
    .await;

    // An HTTP request in progress: its handler is reading the body, half of
    // which is still to come when the signal arrives.
    let mut slow = TcpStream::connect(a.addr()).await.unwrap();
    let body = json!({"username": groups[0].0.username, "password": "correct horse"}).to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    slow.write_all(
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            a.addr(),
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut continue_line = [0u8; 25];
    slow.read_exact(&mut continue_line).await.unwrap();
    assert_eq!(&continue_line, b"HTTP/1.1 100 Continue\r\n\r\n");
    slow.write_all(head.as_bytes()).await.unwrap();

    // Sends certainly in flight when the signal comes: node A is frozen
    // while every sender writes a full window of messages to it, unread.
    // Then the senders stop making new ones (they will reconnect to node
    // B), and node A wakes up to SIGTERM.
    a.signal("STOP");
    wait_until("every sender has a full window in flight", PATIENCE, || {
        senders.iter().all(|s| s.with(|r| r.unacked() == WINDOW))
    })
    .await;
    senders_control.stop_producing();
    senders_control.connect_to(&b.base);
    a.signal("TERM");
    a.signal("CONT");
    let signalled = Instant::now();

    wait_until("every sender's socket is closed", PATIENCE, || {
        senders.iter().all(|s| s.with(|r| !r.endings.is_empty()))
    })
    .await;
    let closed_in = signalled.elapsed();
    for sender in &senders {
        sender.with(|r| {
            let ending = &r.endings[0];
            assert_eq!(
                ending.code,
                Some(1012),
                "{}: closed as a service restart ({ending:?})",
                sender.user.username
            );
            assert!(
                ending.unanswered.is_empty(),
                "{}: sends left unanswered by the shutdown: {:?}",
                sender.user.username,
                ending.unanswered
            );
        });
    }

    // Node A takes no new connection, though it is still running (the
    // request above holds it).
    let refused = tokio_tungstenite::connect_async(ws_request(&a.base, &[])).await;
    assert!(refused.is_err(), "a new WebSocket is refused");
    assert!(
        TcpStream::connect(a.addr()).await.is_err(),
        "a new connection is refused"
    );
    assert!(a.is_running(), "the request in progress holds the process");

    // The request in progress is finished and answered, and then A exits.
    slow.write_all(tail.as_bytes()).await.unwrap();
    let mut response = String::new();
    slow.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "the login in progress is answered: {response}"
    );
    let status = tokio::task::block_in_place(|| a.wait_exit(SHUTDOWN_BOUND))
        .expect("node A exits by itself");
    let exited_in = signalled.elapsed();
    assert!(status.success(), "a clean exit: {status}");
    assert!(exited_in < SHUTDOWN_BOUND, "took {exited_in:?}");
    assert!(a.logged("every send answered, every connection closed"));
    // Everyone node A had was last seen when it went (stored once, before
    // it exited); the listeners on node B are still there.
    let db = sqlx::PgPool::connect(&db_url).await.unwrap();
    for (first, second, listener, _) in &groups {
        for (user, stored) in [(first, true), (second, true), (listener, false)] {
            let seen: Option<i64> = sqlx::query_scalar(
                "SELECT (extract(epoch FROM last_seen_at) * 1000)::int8 FROM users WHERE id = $1",
            )
            .bind(user.id)
            .fetch_one(&db)
            .await
            .unwrap();
            assert_eq!(seen.is_some(), stored, "{}: {seen:?}", user.username);
        }
    }
    db.close().await;

    // On node B everything ends up acknowledged, and the listeners there get
    // every message of their group once: those node A stored (its last
    // batch included) and those resent to node B.
    wait_until("every sender has everything acknowledged", PATIENCE, || {
        senders.iter().all(|s| s.with(|r| r.unacked() == 0))
    })
    .await;
    for (n, listener) in listeners.iter().enumerate() {
        let group: HashSet<String> = senders[2 * n..2 * n + 2]
            .iter()
            .flat_map(|s| s.with(|r| r.made.iter().map(|m| m.id.clone()).collect::<Vec<_>>()))
            .collect();
        wait_until(
            &format!("{} has every message of the group", listener.user.username),
            PATIENCE,
            || listener.with(|r| group.iter().all(|id| r.received_ids().any(|got| got == id))),
        )
        .await;
    }
    senders_control.stop();
    listeners_control.stop();
    let mut records = Vec::new();
    for chatter in senders.into_iter().chain(listeners) {
        let user = chatter.user.clone();
        records.push((user, chatter.finish(PATIENCE).await));
    }
    let refs: Vec<_> = records.iter().map(|(u, r)| (u, r)).collect();
    let rows = assert_acked_stored_once(&db_url, &refs).await;
    let made: usize = records.iter().map(|(_, r)| r.made.len()).sum();
    assert_eq!(rows, made, "one row per message made");
    for (user, record) in &records {
        assert!(
            record.received_twice().is_empty(),
            "{} got a message twice on one connection",
            user.username
        );
    }
    for (user, record) in &records[6..] {
        assert_eq!(record.connections, 1, "{} stayed connected", user.username);
        assert!(
            repeated(record.received_ids()).is_empty(),
            "{} got a message twice",
            user.username
        );
    }
    let refused: usize = records.iter().map(|(_, r)| r.refused.len()).sum();
    let resent: usize = records.iter().map(|(_, r)| r.resent).sum();
    eprintln!(
        "shutdown: {made} messages, {} in flight at SIGTERM, {refused} of them refused by the \
         shutdown and {resent} resent to the other node; sockets closed {closed_in:?} and the process gone {exited_in:?} after \
         SIGTERM; {:?} in all",
        6 * WINDOW,
        started.elapsed()
    );
    drop(b);
}
