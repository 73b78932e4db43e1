//! `history`: paging back through a long conversation, plain and with
//! reactions and replies; `inbox`: one user's conversation list with 200
//! conversations.

use super::reacted::{REACTORS, Shape, answers, react};
use super::{Ctx, Rng, expect_frame, per_second};
use crate::Res;
use crate::client::{self, PageMessage, User, Ws, message_id, reply_frame, send_frame};
use crate::probe::Usage;
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::StreamExt;
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

const HISTORY_MESSAGES: usize = 10_000;
const HISTORY_PAGE: u32 = 20;
/// Sends (and reactions) in flight at once while filling a conversation.
pub(super) const FILL_WINDOW: usize = 256;

const INBOX_CHATS: usize = 200;
const INBOX_PER_CHAT: usize = 3;
const INBOX_REQUESTS: usize = 500;

/// Stores `count` messages from one connection, pipelined (up to
/// [`FILL_WINDOW`] unacknowledged); message `k` answers message
/// `replies[k]` when there is one (an older message acked already: at
/// most [`FILL_WINDOW`] are unacked, and one connection's acks come in
/// order). The ids in the order sent, and the rate.
async fn fill(
    ws: Ws,
    user: &User,
    chat: &str,
    count: usize,
    replies: &HashMap<usize, usize>,
) -> Res<(Vec<String>, f64)> {
    let (mut sink, stream) = ws.split();
    let window = Arc::new(Semaphore::new(FILL_WINDOW));
    let acks = tokio::spawn(answers(stream, "message.ack", count, window.clone()));
    let started = Instant::now();
    let mut ids: Vec<String> = Vec::with_capacity(count);
    for k in 0..count {
        window.acquire().await?.forget();
        let id = message_id();
        let body = format!("history message {k}: a line of about the usual length");
        let frame = match replies.get(&k) {
            Some(&j) if j + FILL_WINDOW < k => reply_frame(chat, user, &id, &body, &ids[j]),
            Some(_) => return Err("a reply to a message that may not be acked yet".into()),
            None => send_frame(chat, user, &id, &body),
        };
        client::send(&mut sink, frame).await?;
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

/// One conversation paged back to its start: the page latencies, what the
/// pages held, the time its own requests took, and what both walks cost.
struct Paged {
    latency: Histogram<u64>,
    seen: Vec<PageMessage>,
    cursor: Option<String>,
    done: bool,
    elapsed: Duration,
    usage: Usage,
}

/// Pages back through each of `chats` to its start, a page of each in
/// turn (which goes first alternating), so that whatever else the machine
/// does falls on every walk alike.
async fn page_back<const N: usize>(
    ctx: &Ctx<'_>,
    user: &User,
    chats: [&str; N],
) -> Res<[Paged; N]> {
    let snapshot = ctx.target.probe.start();
    let mut walks: [Paged; N] = std::array::from_fn(|_| Paged {
        latency: histogram(),
        seen: Vec::with_capacity(HISTORY_MESSAGES),
        cursor: None,
        done: false,
        elapsed: Duration::ZERO,
        usage: Usage::default(),
    });
    let most = (HISTORY_MESSAGES as u64 / u64::from(HISTORY_PAGE)) * 2;
    let mut step = 0;
    while !walks.iter().all(|w| w.done) {
        for turn in 0..N {
            let (chat, walk) = (chats[(turn + step) % N], &mut walks[(turn + step) % N]);
            if walk.done {
                continue;
            } else if walk.latency.len() > most {
                return Err("history does not end: more pages than messages".into());
            }
            let t0 = Instant::now();
            let cursor = walk.cursor.as_deref();
            let page = ctx.api.history(user, chat, cursor, HISTORY_PAGE).await?;
            record(&mut walk.latency, t0.elapsed());
            walk.elapsed += t0.elapsed();
            walk.seen.extend(page.messages);
            walk.done = page.next_cursor.is_none();
            walk.cursor = page.next_cursor;
        }
        step += 1;
    }
    let usage = ctx.target.probe.finish(&snapshot);
    for walk in &mut walks {
        walk.usage = usage.clone();
    }
    Ok(walks)
}

/// The outcome of paging through `sent`: each message once, newest first.
fn paged_outcome(timed: &'static str, paged: Paged, sent: &[String]) -> Outcome {
    let mut outcome = Outcome::new("history", timed);
    outcome.count = paged.latency.len();
    outcome.rate = Some(per_second(paged.latency.len(), paged.elapsed));
    outcome.latency = Latency::of(&paged.latency);
    outcome.usage = Some(paged.usage);
    outcome.figure("messages", sent.len());
    let seen: Vec<&str> = paged.seen.iter().map(|m| m.message_id.as_str()).collect();
    let newest_first: Vec<&str> = sent.iter().rev().map(String::as_str).collect();
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
    outcome
}

/// `history`: 10,000 messages in each of two conversations, paged back 20
/// at a time, a page of each in turn: a plain conversation, and one where
/// a third of the messages carry reactions and a tenth are replies (each
/// page then computes quotes and reaction lists too).
pub async fn history(ctx: &mut Ctx<'_>) -> Res<Vec<Outcome>> {
    let others = ctx.users(2).await?;
    let writer = ctx.fresh_user().await?;
    let plain = ctx
        .api
        .conversation(&writer, &[&others[0], &others[1]], Some("history"))
        .await?;
    let rich = ctx
        .api
        .conversation(&writer, &[&others[0], &others[1]], Some("history, reacted"))
        .await?;
    progress(&format!(
        "storing {HISTORY_MESSAGES} messages in each of two conversations"
    ));
    let ws = ctx.api.ws(&writer, None).await?;
    let none = HashMap::new();
    let (sent, fill_rate) = fill(ws, &writer, &plain, HISTORY_MESSAGES, &none).await?;
    let shape = Shape::new(HISTORY_MESSAGES);
    let ws = ctx.api.ws(&writer, None).await?;
    let (rich_sent, _) = fill(ws, &writer, &rich, HISTORY_MESSAGES, &shape.replies).await?;
    let reactors = [&writer, &others[0], &others[1]];
    let started = Instant::now();
    let mut reacting = Vec::new();
    for (n, (every, emoji)) in REACTORS.iter().enumerate() {
        let plan: Vec<(String, &str)> = (0..HISTORY_MESSAGES)
            .filter(|k| k.is_multiple_of(*every))
            .map(|k| (rich_sent[k].clone(), *emoji))
            .collect();
        let ws = ctx.api.ws(reactors[n], None).await?;
        reacting.push(tokio::spawn(react(ws, rich.clone(), plan)));
    }
    let mut reactions = 0;
    for task in reacting {
        task.await??;
    }
    for k in 0..HISTORY_MESSAGES {
        reactions += Shape::reactions(k).iter().map(|r| r.1).sum::<u64>();
    }
    let react_rate = per_second(reactions, started.elapsed());
    progress(&format!(
        "paging back {HISTORY_PAGE} at a time through both, a page of each in turn \
         ({fill_rate:.0} msgs/s stored from one pipelined connection, {react_rate:.0} reactions/s from three)"
    ));

    let [paged, rich_paged] = page_back(ctx, &writer, [&plain, &rich]).await?;
    let mut outcome = paged_outcome("page of 20", paged, &sent);
    outcome.figure("fill_msgs_per_s", fill_rate.round());
    outcome.note = format!(
        "{HISTORY_MESSAGES} messages; filled at {fill_rate:.0} msgs/s over one connection; \
         paged in turn with the next row's (CPU: both)"
    );

    let paged = rich_paged;
    let oldest_first: Vec<&PageMessage> = paged.seen.iter().rev().collect();
    let mut problems: Vec<String> = Vec::new();
    if oldest_first.len() == HISTORY_MESSAGES {
        problems = (0..HISTORY_MESSAGES)
            .filter_map(|k| shape.differs(k, oldest_first[k], &rich_sent))
            .collect();
    }
    let mut rich_outcome = paged_outcome("page of 20, reactions and replies", paged, &rich_sent);
    rich_outcome.expect("reactions and replies", &problems);
    if rich_outcome.ok {
        rich_outcome.check =
            "each message seen once, newest first, its reactions and reply right".into();
    }
    let reacted = (0..HISTORY_MESSAGES)
        .filter(|k| !Shape::reactions(*k).is_empty())
        .count();
    rich_outcome.figure("reacted_messages", reacted);
    rich_outcome.figure("reactions", reactions);
    rich_outcome.figure("replies", shape.replies.len());
    rich_outcome.figure("reactions_per_s", react_rate.round());
    rich_outcome.note = format!(
        "{HISTORY_MESSAGES} messages, {reacted} with reactions ({reactions} in all), {} replies; \
         plain conversation p99 {} ms in the same run, a page of each in turn (CPU: both)",
        shape.replies.len(),
        outcome
            .latency
            .map_or("-".into(), |l| format!("{:.2}", l.p99))
    );
    Ok(vec![outcome, rich_outcome])
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
    // Statistics, as autovacuum keeps them on a database in use: without
    // them, the plans depend on whether autovacuum has come by yet on this
    // fresh database, and page times moved from run to run (2.2 or 4.9 ms).
    if let Some(db) = ctx.db().await {
        sqlx::query("ANALYZE participants, conversations, messages, users")
            .execute(db)
            .await?;
    }

    let snapshot = ctx.target.probe.start();
    let started = Instant::now();
    let mut latency = histogram();
    let mut whole = histogram();
    let mut problems = Vec::new();
    for _ in 0..INBOX_REQUESTS {
        let t0 = Instant::now();
        let mut chats = Vec::with_capacity(INBOX_CHATS);
        let mut cursor: Option<String> = None;
        loop {
            let t = Instant::now();
            let page = ctx.api.inbox_page(&me, cursor.as_deref()).await?;
            record(&mut latency, t.elapsed());
            chats.extend(page.chats);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        record(&mut whole, t0.elapsed());
        if problems.len() < 3 {
            let got: Vec<&str> = chats.iter().map(|c| c.conversation_id.as_str()).collect();
            if got != expected_ids {
                let first = got.iter().zip(&expected_ids).position(|(a, b)| a != b);
                problems.push(format!(
                    "{} chats, order differs from commit order at position {first:?}",
                    got.len()
                ));
            } else if let Some(wrong) = chats
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

    let mut outcome = Outcome::new("inbox", "inbox page of 100");
    outcome.count = latency.len();
    outcome.rate = Some(per_second(latency.len(), elapsed));
    outcome.latency = Latency::of(&latency);
    outcome.usage = Some(usage);
    outcome.figure("conversations", INBOX_CHATS);
    outcome.expect("order", &problems);
    if outcome.ok {
        outcome.check = "200 chats in commit order, last messages right".into();
    }
    let whole = Latency::of(&whole);
    outcome.figure("whole_inbox_p50_ms", whole.map(|l| l.p50));
    outcome.figure("whole_inbox_p99_ms", whole.map(|l| l.p99));
    outcome.note = format!(
        "the whole inbox of {INBOX_CHATS} {INBOX_REQUESTS} times, one at a time, in pages of 100 \
         (the most a page holds): p50 {} ms, p99 {} ms",
        whole.map_or("-".into(), |l| format!("{:.2}", l.p50)),
        whole.map_or("-".into(), |l| format!("{:.2}", l.p99))
    );
    Ok(outcome)
}
