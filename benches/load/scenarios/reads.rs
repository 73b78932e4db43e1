//! `history`: paging back through a long conversation; `inbox`: one user's
//! conversation list with 200 conversations.

use super::{Ctx, Rng, expect_frame, per_second};
use crate::Res;
use crate::client::{self, User, Ws, message_id, send_frame};
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

const HISTORY_MESSAGES: usize = 10_000;
const HISTORY_PAGE: u32 = 20;
/// Sends in flight at once while filling the conversation.
const FILL_WINDOW: usize = 256;

const INBOX_CHATS: usize = 200;
const INBOX_PER_CHAT: usize = 3;
const INBOX_REQUESTS: usize = 500;

/// Stores `count` messages from one connection, pipelined (up to
/// [`FILL_WINDOW`] unacknowledged): the ids in the order sent, and the rate.
async fn fill(ws: Ws, user: &User, chat: &str, count: usize) -> Res<(Vec<String>, f64)> {
    let (mut sink, mut stream) = ws.split();
    let window = Arc::new(Semaphore::new(FILL_WINDOW));
    let credits = window.clone();
    let acks = tokio::spawn(async move {
        let mut errors = Vec::new();
        let mut acked = 0;
        while acked + errors.len() < count {
            let frame = expect_frame(&mut stream).await?;
            match frame.event.as_str() {
                "message.ack" => acked += 1,
                "error" => errors.push(frame.payload.code.unwrap_or_default()),
                _ => continue,
            }
            credits.add_permits(1);
        }
        Ok::<_, crate::Error>(errors)
    });
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count);
    for k in 0..count {
        window.acquire().await?.forget();
        let id = message_id();
        let body = format!("history message {k}: a line of about the usual length");
        client::send(&mut sink, send_frame(chat, user, &id, &body)).await?;
        ids.push(id);
    }
    let errors = acks.await??;
    if !errors.is_empty() {
        return Err(format!(
            "filling the conversation: {} errors ({})",
            errors.len(),
            errors[0]
        )
        .into());
    }
    Ok((ids, per_second(count as u64, started.elapsed())))
}

pub async fn history(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let others = ctx.users(2).await?;
    let writer = ctx.fresh_user().await?;
    let chat = ctx
        .api
        .conversation(&writer, &[&others[0], &others[1]], Some("history"))
        .await?;
    progress(&format!(
        "storing {HISTORY_MESSAGES} messages in one conversation"
    ));
    let ws = ctx.api.ws(&writer, None).await?;
    let (sent, fill_rate) = fill(ws, &writer, &chat, HISTORY_MESSAGES).await?;
    progress(&format!(
        "paging back {HISTORY_PAGE} at a time ({fill_rate:.0} msgs/s stored from one pipelined connection)"
    ));

    let snapshot = ctx.target.probe.start();
    let started = Instant::now();
    let mut latency = histogram();
    let mut seen: Vec<String> = Vec::with_capacity(HISTORY_MESSAGES);
    let mut cursor: Option<String> = None;
    loop {
        let t0 = Instant::now();
        let page = ctx
            .api
            .history(&writer, &chat, cursor.as_deref(), HISTORY_PAGE)
            .await?;
        record(&mut latency, t0.elapsed());
        seen.extend(page.messages.into_iter().map(|m| m.message_id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        if latency.len() > (HISTORY_MESSAGES as u64 / u64::from(HISTORY_PAGE)) * 2 {
            return Err("history does not end: more pages than messages".into());
        }
    }
    let elapsed = started.elapsed();
    let usage = ctx.target.probe.finish(&snapshot);

    let mut outcome = Outcome::new("history", "page of 20");
    outcome.count = latency.len();
    outcome.rate = Some(per_second(latency.len(), elapsed));
    outcome.latency = Latency::of(&latency);
    outcome.usage = Some(usage);
    outcome.figure("messages", HISTORY_MESSAGES);
    outcome.figure("fill_msgs_per_s", fill_rate.round());
    let newest_first: Vec<String> = sent.iter().rev().cloned().collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &seen {
        *counts.entry(id).or_default() += 1;
    }
    let missing = sent
        .iter()
        .filter(|id| !counts.contains_key(id.as_str()))
        .count();
    let doubled = counts.values().filter(|n| **n > 1).count();
    let mut problems = Vec::new();
    if missing + doubled > 0 || seen.len() != sent.len() {
        problems.push(format!(
            "{} seen of {}: {missing} missing, {doubled} twice",
            seen.len(),
            sent.len()
        ));
    } else if seen != newest_first {
        problems.push("pages out of order (newest first expected)".into());
    }
    outcome.expect("pages", &problems);
    if outcome.ok {
        outcome.check = "each message seen once, newest first".into();
    }
    outcome.note = format!(
        "{} messages; filled at {fill_rate:.0} msgs/s over one connection",
        HISTORY_MESSAGES
    );
    Ok(outcome)
}

/// Sends one message and waits for its ack (other frames are skipped).
async fn send_and_ack(ws: &mut Ws, user: &User, chat: &str, body: &str) -> Res<()> {
    use futures::SinkExt;
    let id = message_id();
    ws.send(send_frame(chat, user, &id, body)).await?;
    loop {
        let frame = expect_frame(ws).await?;
        match frame.event.as_str() {
            "message.ack" if frame.payload.message_id.as_deref() == Some(&id) => return Ok(()),
            "error" => {
                return Err(
                    format!("send refused: {}", frame.payload.code.unwrap_or_default()).into(),
                );
            }
            _ => {}
        }
    }
}

pub async fn inbox(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let others = ctx.users(INBOX_CHATS).await?;
    let me = ctx.fresh_user().await?;
    progress(&format!(
        "one user in {INBOX_CHATS} direct chats, {INBOX_PER_CHAT} messages each, in shuffled order"
    ));
    let mut chats = Vec::with_capacity(INBOX_CHATS);
    for other in &others {
        chats.push(ctx.api.conversation(&me, &[other], None).await?);
    }
    let mut my_socket = ctx.api.ws(&me, None).await?;
    let mut their_sockets = Vec::with_capacity(INBOX_CHATS);
    for other in &others {
        their_sockets.push(ctx.api.ws(other, None).await?);
    }
    let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64;
    let mut rng = Rng::new(seed);
    let mut plan: Vec<(usize, usize)> = (0..INBOX_CHATS)
        .flat_map(|c| (0..INBOX_PER_CHAT).map(move |k| (c, k)))
        .collect();
    rng.shuffle(&mut plan);
    // One at a time, each acked before the next: commit order is plan order.
    let mut last: Vec<(usize, String)> = vec![(0, String::new()); INBOX_CHATS];
    for (step, &(c, k)) in plan.iter().enumerate() {
        let body = format!("inbox message {k} in chat {c} (step {step})");
        if rng.below(2) == 0 {
            send_and_ack(&mut my_socket, &me, &chats[c], &body).await?;
        } else {
            send_and_ack(&mut their_sockets[c], &others[c], &chats[c], &body).await?;
        }
        last[c] = (step, body);
    }
    drop(their_sockets);
    drop(my_socket);
    let mut expected: Vec<usize> = (0..INBOX_CHATS).collect();
    expected.sort_by_key(|&c| std::cmp::Reverse(last[c].0));
    let expected_ids: Vec<&str> = expected.iter().map(|&c| chats[c].as_str()).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let snapshot = ctx.target.probe.start();
    let started = Instant::now();
    let mut latency = histogram();
    let mut problems = Vec::new();
    for _ in 0..INBOX_REQUESTS {
        let t0 = Instant::now();
        let inbox = ctx.api.inbox(&me).await?;
        record(&mut latency, t0.elapsed());
        if problems.len() < 3 {
            let got: Vec<&str> = inbox
                .chats
                .iter()
                .map(|c| c.conversation_id.as_str())
                .collect();
            if got != expected_ids {
                let first = got.iter().zip(&expected_ids).position(|(a, b)| a != b);
                problems.push(format!(
                    "{} chats, order differs from commit order at position {first:?}",
                    got.len()
                ));
            } else if let Some(wrong) = inbox
                .chats
                .iter()
                .zip(&expected)
                .find(|(chat, c)| chat.last_message.as_deref() != Some(last[**c].1.as_str()))
            {
                problems.push(format!("wrong last message in {}", wrong.0.conversation_id));
            }
        }
    }
    let elapsed = started.elapsed();
    let usage = ctx.target.probe.finish(&snapshot);

    let mut outcome = Outcome::new("inbox", "inbox of 200");
    outcome.count = latency.len();
    outcome.rate = Some(per_second(latency.len(), elapsed));
    outcome.latency = Latency::of(&latency);
    outcome.usage = Some(usage);
    outcome.figure("conversations", INBOX_CHATS);
    outcome.expect("order", &problems);
    if outcome.ok {
        outcome.check = "200 chats in commit order, last messages right".into();
    }
    outcome.note = format!("{INBOX_REQUESTS} requests, one at a time");
    Ok(outcome)
}
