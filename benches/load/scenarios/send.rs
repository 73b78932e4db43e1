//! `send`: closed-loop senders, each waiting for its ack (the durable-write
//! throughput and the ack latency); `deliver`: open-loop senders at a fixed
//! total rate, timed until the recipient has the message; `deliver2`: the
//! same with the recipients on a second node (PostgreSQL wake-ups between).

use super::{Ctx, expect_frame, per_second};
use crate::Res;
use crate::client::{self, Api, User, Ws, message_id, send_frame};
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::StreamExt;
use hdrhistogram::Histogram;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// 50 users in 25 direct chats.
const PAIRS: usize = 25;
/// Messages each user of `send` sends, one at a time.
const PER_USER: usize = 200;
/// `deliver`: for how long (the rate in all is `--deliver-rate`, 200/s by
/// default).
const DELIVER_SECONDS: u64 = 20;

/// A message of about the length people type.
fn content(k: usize) -> String {
    format!("load test message number {k}, about as long as a short chat line")
}

/// The pairs' users and their direct chats (the same chats every time:
/// a direct chat between two people is created once).
async fn pairs(ctx: &mut Ctx<'_>) -> Res<(Vec<User>, Vec<String>)> {
    let users = ctx.users(PAIRS * 2).await?;
    let mut chats = Vec::with_capacity(PAIRS);
    for pair in users.chunks(2) {
        chats.push(ctx.api.conversation(&pair[0], &[&pair[1]], None).await?);
    }
    Ok((users, chats))
}

async fn connect_all(ctx: &Ctx<'_>, users: &[User]) -> Res<Vec<Ws>> {
    let mut sockets = Vec::with_capacity(users.len());
    for user in users {
        sockets.push(ctx.api.ws(user, None).await?);
    }
    Ok(sockets)
}

/// What one closed-loop sender saw.
struct Sender {
    sent: Vec<String>,
    acks: Histogram<u64>,
    errors: Vec<String>,
    /// `message.receive` ids, from its chat partner.
    received: Vec<String>,
    last_ack: Instant,
}

async fn closed_loop(ws: Ws, user: User, chat: String, expect_received: usize) -> Res<Sender> {
    let (mut sink, mut stream) = ws.split();
    let mut out = Sender {
        sent: Vec::with_capacity(PER_USER),
        acks: histogram(),
        errors: Vec::new(),
        received: Vec::with_capacity(expect_received),
        last_ack: Instant::now(),
    };
    for k in 0..PER_USER {
        let id = message_id();
        let started = Instant::now();
        client::send(&mut sink, send_frame(&chat, &user, &id, &content(k))).await?;
        loop {
            let frame = expect_frame(&mut stream).await?;
            match frame.event.as_str() {
                "message.ack" if frame.payload.message_id.as_deref() == Some(&id) => {
                    record(&mut out.acks, started.elapsed());
                    break;
                }
                "message.receive" => out.received.extend(frame.payload.message_id),
                "error" => {
                    out.errors
                        .push(frame.payload.code.unwrap_or_else(|| "?".into()));
                    if frame.payload.message_id.as_deref() == Some(&id) {
                        break;
                    }
                }
                _ => {}
            }
        }
        out.sent.push(id);
    }
    out.last_ack = Instant::now();
    // The partner may still be sending: wait for the rest of its messages.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while out.received.len() < expect_received {
        let next = tokio::time::timeout_at(deadline, client::next_frame(&mut stream)).await;
        match next {
            Ok(Ok(Some(frame))) if frame.event == "message.receive" => {
                out.received.extend(frame.payload.message_id);
            }
            Ok(Ok(Some(_))) => {}
            _ => break,
        }
    }
    Ok(out)
}

pub async fn send(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let (users, chats) = pairs(ctx).await?;
    let sockets = connect_all(ctx, &users).await?;
    progress(&format!(
        "{} users send {PER_USER} messages each, one at a time",
        users.len()
    ));

    let snapshot = ctx.target.probe.start();
    let started = Instant::now();
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            tokio::spawn(closed_loop(
                ws,
                users[i].clone(),
                chats[i / 2].clone(),
                PER_USER,
            ))
        })
        .collect();
    let mut senders = Vec::with_capacity(tasks.len());
    for task in tasks {
        senders.push(task.await??);
    }
    let usage = ctx.target.probe.finish(&snapshot);
    let last_ack = senders.iter().map(|s| s.last_ack).max().unwrap_or(started);
    let elapsed = senders
        .iter()
        .map(|s| s.last_ack.duration_since(started))
        .max()
        .unwrap_or_default();

    let mut acks = histogram();
    let mut errors: Vec<String> = Vec::new();
    for s in &senders {
        acks.add(&s.acks)?;
        errors.extend(s.errors.iter().cloned());
    }
    let acked = acks.len();
    let mut outcome = Outcome::new("send", "ack");
    outcome.count = acked;
    outcome.rate = Some(per_second(acked, elapsed));
    outcome.latency = Latency::of(&acks);
    outcome.figure("users", users.len());
    outcome.figure(
        "messages_sent",
        senders.iter().map(|s| s.sent.len()).sum::<usize>(),
    );
    outcome.figure("errors", errors.len());
    outcome.expect("errors", &errors);
    if acked > 0 {
        let per_msg = |s: Option<f64>| s.map(|s| (s * 1e6 / acked as f64 * 10.0).round() / 10.0);
        outcome.figure("server_cpu_us_per_msg", per_msg(usage.server_cpu_s));
        outcome.figure("pg_cpu_us_per_msg", per_msg(usage.pg_cpu_s));
        outcome.figure(
            "generator_cpu_us_per_msg",
            per_msg(Some(usage.generator_cpu_s)),
        );
    }
    outcome.usage = Some(usage);
    ctx.indexed_behind(last_ack, acked, &mut outcome).await;

    // Every message stored exactly once, each sender's in the order sent;
    // every message delivered once to the partner.
    progress("checking every conversation's history");
    let mut stored_problems = Vec::new();
    let mut delivery_problems = Vec::new();
    let (mut lost, mut duplicated) = (0usize, 0usize);
    for (p, chat) in chats.iter().enumerate() {
        let (a, b) = (&senders[2 * p], &senders[2 * p + 1]);
        let history = ctx.api.whole_history(&users[2 * p], chat).await?;
        stored_problems.extend(check_stored(
            &history,
            &[(&users[2 * p], &a.sent), (&users[2 * p + 1], &b.sent)],
        ));
        for (receiver, sender) in [(a, b), (b, a)] {
            let (l, d) = lost_and_doubled(&sender.sent, &receiver.received);
            lost += l;
            duplicated += d;
        }
    }
    if lost + duplicated > 0 {
        delivery_problems.push(format!("{lost} lost, {duplicated} duplicated"));
    }
    outcome.expect("stored", &stored_problems);
    outcome.expect("delivered", &delivery_problems);
    outcome.figure("receive_lost", lost);
    outcome.figure("receive_duplicated", duplicated);
    let all: Vec<String> = senders
        .iter()
        .flat_map(|s| s.sent.iter().cloned())
        .collect();
    ctx.batch_sizes(&all, &mut outcome).await;
    if outcome.ok {
        outcome.check = "each stored once, in order; each delivered once".into();
    }
    outcome.note = format!(
        "server {} µs/msg, PostgreSQL {} µs/msg{}{}",
        outcome
            .number("server_cpu_us_per_msg")
            .map_or("-".into(), |x| format!("{x:.0}")),
        outcome
            .number("pg_cpu_us_per_msg")
            .map_or("-".into(), |x| format!("{x:.0}")),
        match (outcome.number("commits"), outcome.number("batch_mean")) {
            (Some(c), Some(m)) => format!(", {c} commits of {m:.1} msgs on average"),
            _ => String::new(),
        },
        match (
            outcome.number("indexed_ms_after"),
            outcome.number("index_pg_cpu_us_per_msg"),
        ) {
            (Some(ms), Some(pg)) => format!(
                "; indexed for search {ms:.0} ms after the last ack \
                 (then natter {:.0} µs/msg, PostgreSQL {pg:.0} µs/msg)",
                outcome.number("index_server_cpu_us_per_msg").unwrap_or(0.0)
            ),
            _ => String::new(),
        }
    );
    Ok(outcome)
}

/// The conversation's history (oldest first) holds exactly the messages
/// sent, each once, and each sender's in the order they were sent.
fn check_stored(history: &[client::PageMessage], senders: &[(&User, &Vec<String>)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for m in history {
        *seen.entry(&m.message_id).or_default() += 1;
    }
    let sent: HashSet<&str> = senders
        .iter()
        .flat_map(|(_, ids)| ids.iter().map(String::as_str))
        .collect();
    let missing = sent.iter().filter(|id| !seen.contains_key(*id)).count();
    let doubled = seen.values().filter(|n| **n > 1).count();
    let foreign = seen.keys().filter(|id| !sent.contains(*id)).count();
    if missing + doubled + foreign > 0 {
        problems.push(format!(
            "{missing} missing, {doubled} stored twice, {foreign} unknown"
        ));
    }
    for (user, ids) in senders {
        let order: Vec<&str> = history
            .iter()
            .filter(|m| m.sender_id == user.id)
            .map(|m| m.message_id.as_str())
            .collect();
        let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
        if missing + doubled == 0 && order != expected {
            problems.push(format!("{}'s messages stored out of order", user.id));
        }
    }
    problems
}

/// (sent but never received, received more than once).
fn lost_and_doubled(sent: &[String], received: &[String]) -> (usize, usize) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in received {
        *counts.entry(id).or_default() += 1;
    }
    let lost = sent
        .iter()
        .filter(|id| !counts.contains_key(id.as_str()))
        .count();
    let doubled = counts.values().map(|n| n.saturating_sub(1)).sum();
    (lost, doubled)
}

/// What one open-loop receiver saw: send→receive latencies and every id.
struct Receiver {
    latency: Histogram<u64>,
    received: Vec<String>,
}

/// Reads `message.receive` until it has `expected` distinct messages (known
/// once the senders are done) or a grace period after that runs out.
async fn receive(
    ws: Ws,
    epoch: Instant,
    mut expected: watch::Receiver<Option<usize>>,
) -> Res<Receiver> {
    let (_sink, mut stream) = ws.split();
    let mut out = Receiver {
        latency: histogram(),
        received: Vec::new(),
    };
    let mut distinct: HashSet<String> = HashSet::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let want = *expected.borrow();
        if let Some(want) = want {
            if distinct.len() >= want {
                break;
            }
            deadline.get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_secs(5));
        }
        let wait =
            deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            changed = expected.changed(), if want.is_none() => {
                if changed.is_err() {
                    break;
                }
            }
            frame = client::next_frame(&mut stream) => {
                let Some(frame) = frame? else { break };
                if frame.event != "message.receive" {
                    continue;
                }
                // The content is "d<µs since epoch>": when it was sent.
                if let Some(sent) = frame
                    .payload
                    .content
                    .as_deref()
                    .and_then(|c| c.strip_prefix('d'))
                    .and_then(|c| c.split(' ').next())
                    .and_then(|c| c.parse::<u64>().ok())
                {
                    let now = epoch.elapsed().as_micros() as u64;
                    record(&mut out.latency, Duration::from_micros(now.saturating_sub(sent)));
                }
                if let Some(id) = frame.payload.message_id {
                    distinct.insert(id.clone());
                    out.received.push(id);
                }
            }
            () = tokio::time::sleep_until(wait) => break,
        }
    }
    Ok(out)
}

/// What one open-loop sender did.
struct Paced {
    sent: Vec<String>,
    acked: usize,
    errors: Vec<String>,
}

/// Sends at a fixed pace whatever the server does (open loop: a late tick is
/// caught up at once), reading acks on the side.
async fn paced(
    ws: Ws,
    user: User,
    chat: String,
    epoch: Instant,
    first: Duration,
    every: Duration,
    count: usize,
) -> Res<Paced> {
    let (mut sink, mut stream) = ws.split();
    let acks = tokio::spawn(async move {
        let (mut acked, mut errors) = (0usize, Vec::new());
        while acked + errors.len() < count {
            match tokio::time::timeout(PATIENCE_AFTER, client::next_frame(&mut stream)).await {
                Ok(Ok(Some(frame))) => match frame.event.as_str() {
                    "message.ack" => acked += 1,
                    "error" => errors.push(frame.payload.code.unwrap_or_default()),
                    _ => {}
                },
                _ => break,
            }
        }
        (acked, errors)
    });
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::from_std(epoch + first), every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = Vec::with_capacity(count);
    for k in 0..count {
        ticks.tick().await;
        let id = message_id();
        let body = format!("d{} deliver {k}", epoch.elapsed().as_micros());
        client::send(&mut sink, send_frame(&chat, &user, &id, &body)).await?;
        sent.push(id);
    }
    let (acked, errors) = acks.await?;
    Ok(Paced {
        sent,
        acked,
        errors,
    })
}

/// How long a sender waits for its last acks once it has sent everything.
const PATIENCE_AFTER: Duration = Duration::from_secs(30);

/// `across`: the receivers are on the second node.
pub async fn deliver(ctx: &mut Ctx<'_>, across: bool) -> Res<Outcome> {
    let (users, chats) = pairs(ctx).await?;
    // Started for this scenario only (and stopped when it ends), so the
    // others measure one node alone.
    let node = if across {
        Some(ctx.target.second_node()?)
    } else {
        None
    };
    let second = match &node {
        Some(node) => Some((Api::new(&node.base).await?, &node.probe)),
        None => None,
    };
    let mut sockets = Vec::with_capacity(users.len());
    for (i, user) in users.iter().enumerate() {
        let api = match &second {
            Some((api, _)) if i % 2 == 1 => api,
            _ => &ctx.api,
        };
        sockets.push(api.ws(user, None).await?);
    }
    let rate = ctx.options.deliver_rate;
    let per_sender = (rate * DELIVER_SECONDS as f64 / PAIRS as f64).round() as usize;
    let every = Duration::from_secs_f64(PAIRS as f64 / rate);
    progress(&format!(
        "{PAIRS} senders at {rate} msgs/s in total for {DELIVER_SECONDS} s, {PAIRS} receivers"
    ));

    let snapshot = ctx.target.probe.start();
    let second_snapshot = second.as_ref().map(|(_, probe)| probe.start());
    let epoch = Instant::now();
    let (expected_tx, expected_rx) = watch::channel(None);
    let expected_tx = Arc::new(expected_tx);
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        let pair = i / 2;
        if i % 2 == 0 {
            // Spread the senders' ticks evenly over one period.
            let first = Duration::from_millis(100) + every.mul_f64(pair as f64 / PAIRS as f64);
            senders.push(tokio::spawn(paced(
                ws,
                users[i].clone(),
                chats[pair].clone(),
                epoch,
                first,
                every,
                per_sender,
            )));
        } else {
            receivers.push(tokio::spawn(receive(ws, epoch, expected_rx.clone())));
        }
    }
    let mut paced_out = Vec::new();
    for task in senders {
        paced_out.push(task.await??);
    }
    let sending = epoch.elapsed();
    // Every receiver expects as many as its partner sent (the same count).
    let _ = expected_tx.send(Some(per_sender));
    let mut received = Vec::new();
    for task in receivers {
        received.push(task.await??);
    }
    let usage = ctx.target.probe.finish(&snapshot);
    let second_cpu_s = second
        .as_ref()
        .zip(second_snapshot.as_ref())
        .and_then(|((_, probe), start)| probe.finish(start).server_cpu_s);

    let mut latency = histogram();
    let (mut lost, mut duplicated, mut acked, mut errors) = (0, 0, 0, Vec::new());
    for (sender, receiver) in paced_out.iter().zip(&received) {
        latency.add(&receiver.latency)?;
        let (l, d) = lost_and_doubled(&sender.sent, &receiver.received);
        lost += l;
        duplicated += d;
        acked += sender.acked;
        errors.extend(sender.errors.iter().cloned());
    }
    let sent: usize = paced_out.iter().map(|p| p.sent.len()).sum();
    let name = if across { "deliver2" } else { "deliver" };
    let mut outcome = Outcome::new(name, "send→receive");
    outcome.count = latency.len();
    outcome.rate = Some(per_second(sent as u64, sending));
    outcome.latency = Latency::of(&latency);
    outcome.usage = Some(usage);
    outcome.figure("sent", sent);
    outcome.figure("acked", acked);
    outcome.figure("lost", lost);
    outcome.figure("duplicated", duplicated);
    outcome.figure("errors", errors.len());
    outcome.figure("target_rate_per_s", rate);
    outcome.expect("errors", &errors);
    if acked != sent {
        outcome.expect("acks", &[format!("{acked} of {sent} acked")]);
    }
    if lost + duplicated > 0 {
        outcome.expect(
            "delivered",
            &[format!("{lost} lost, {duplicated} duplicated")],
        );
    }
    if outcome.ok {
        outcome.check = "0 lost, 0 duplicated, all acked".into();
    }
    outcome.note = format!("open loop at {rate:.0}/s for {DELIVER_SECONDS} s");
    if across {
        if let Some(cpu) = second_cpu_s {
            outcome.figure("second_node_cpu_s", cpu);
        }
        outcome.note = format!(
            "{}; senders on one node, receivers on another{}",
            outcome.note,
            second_cpu_s.map_or(String::new(), |cpu| format!(
                " (whose CPU, {cpu:.2} s, is in other)"
            ))
        );
    }
    Ok(outcome)
}
