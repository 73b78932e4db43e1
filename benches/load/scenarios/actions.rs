//! `actions` (issue 14): how fast an edit, a deletion and a reaction reach
//! the other member. 100 direct chats; in each, one person has sent a few
//! messages and then, open loop, edits one, reacts 👍 to it and deletes it,
//! then the next, 2 actions a second each (200/s in all: within the default
//! `action-budget`, 120 a minute with a burst of 30, so no server setting
//! needs raising). Timed from the action leaving its author to the other
//! person's `message.edited` / `reaction.added` / `message.deleted`, and
//! to the author's `action.ack`.

use super::{Ctx, PATIENCE, expect_frame, per_second};
use crate::Res;
use crate::client::{
    self, Act, Payload, User, Ws, action_frame, action_id, message_id, send_frame,
};
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const PAIRS: usize = 100;
/// Actions a second, in all.
const RATE: f64 = 200.0;
const RUN: Duration = Duration::from_secs(20);
const EMOJI: &str = "👍";

/// What is done to each message, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Edit,
    React,
    Delete,
}

const KINDS: [Kind; 3] = [Kind::Edit, Kind::React, Kind::Delete];

impl Kind {
    /// The notification every member hears.
    fn of(event: &str) -> Option<Self> {
        match event {
            "message.edited" => Some(Self::Edit),
            "reaction.added" => Some(Self::React),
            "message.deleted" => Some(Self::Delete),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        ["edit", "reaction", "delete"][self as usize]
    }
}

fn edited(pair: usize, m: usize) -> String {
    format!("message {m} of pair {pair}, edited: about as long as a short chat line")
}

/// A frame one of the sockets heard: which pair's, the watcher's (the
/// other member) or the author's, and when.
struct Heard {
    pair: usize,
    watcher: bool,
    event: String,
    payload: Payload,
    at: Instant,
}

/// One action sent, and what came of it.
struct Action {
    kind: Kind,
    sent: Instant,
    /// Sent before the timed run (each statement's first use on the
    /// server's connections), not counted.
    warm: bool,
    acks: Vec<(Instant, Option<i64>)>,
    /// The watcher's notifications: when, and their change numbers.
    heard: Vec<(Instant, Option<i64>)>,
    echoes: usize,
    refused: bool,
}

/// Sends `count` messages and waits for their acks: their ids, and the
/// conversation's change number after the last.
async fn store(ws: &mut Ws, user: &User, chat: &str, count: usize) -> Res<(Vec<String>, i64)> {
    let ids: Vec<String> = (0..count).map(|_| message_id()).collect();
    for (m, id) in ids.iter().enumerate() {
        let body = format!("message {m}: about as long as a short chat line");
        ws.send(send_frame(chat, user, id, &body)).await?;
    }
    let (mut acked, mut change) = (0, 0);
    while acked < count {
        let frame = expect_frame(ws).await?;
        match frame.event.as_str() {
            "message.ack" => {
                acked += 1;
                change = change.max(frame.payload.change.unwrap_or(0));
            }
            "error" => {
                let (code, words) = (frame.payload.code, frame.payload.message);
                return Err(format!("send refused: {code:?} {words:?}").into());
            }
            _ => {}
        }
    }
    Ok((ids, change))
}

/// Reports every frame of `ws` that concerns actions.
fn listen(ws: Ws, pair: usize, watcher: bool, out: mpsc::UnboundedSender<Heard>) -> client::WsSink {
    let (sink, mut stream) = ws.split();
    tokio::spawn(async move {
        while let Ok(Some(frame)) = client::next_frame(&mut stream).await {
            let at = Instant::now();
            let (event, payload) = (frame.event, frame.payload);
            if matches!(event.as_str(), "action.ack" | "error") || Kind::of(&event).is_some() {
                let heard = Heard {
                    pair,
                    watcher,
                    event,
                    payload,
                    at,
                };
                if out.send(heard).is_err() {
                    return;
                }
            }
        }
    });
    sink
}

/// The run's bookkeeping: actions by id and by (message, kind).
#[derive(Default)]
struct Book {
    actions: Vec<Action>,
    by_id: HashMap<String, usize>,
    by_target: HashMap<(String, Kind), usize>,
    /// Frames still expected: an ack, the watcher's and the author's
    /// notification for each action.
    outstanding: usize,
    /// The watcher's change numbers, per pair, in the order heard.
    changes: Vec<Vec<i64>>,
    problems: Vec<String>,
    /// Refusals, as the server sent them.
    errors: Vec<String>,
}

impl Book {
    fn sent(&mut self, kind: Kind, message: &str, id: &str, warm: bool) {
        let n = self.actions.len();
        self.by_id.insert(id.to_owned(), n);
        self.by_target.insert((message.to_owned(), kind), n);
        self.outstanding += 3;
        self.actions.push(Action {
            kind,
            sent: Instant::now(),
            warm,
            acks: Vec::new(),
            heard: Vec::new(),
            echoes: 0,
            refused: false,
        });
    }

    fn heard(&mut self, h: Heard) {
        let p = &h.payload;
        let found = match h.event.as_str() {
            "action.ack" | "error" => p.action_id.as_ref().and_then(|id| self.by_id.get(id)),
            event => {
                let kind = Kind::of(event);
                let message = p.message_id.clone().unwrap_or_default();
                kind.and_then(|kind| self.by_target.get(&(message, kind)))
            }
        };
        if h.event == "error" {
            self.errors.push(format!(
                "error {{code: {:?}, message: {:?}, action_id: {:?}}}",
                p.code, p.message, p.action_id
            ));
        }
        let Some(&n) = found else {
            self.problems
                .push(format!("an unexpected {} frame", h.event));
            return;
        };
        let action = &mut self.actions[n];
        self.outstanding = self.outstanding.saturating_sub(1);
        match h.event.as_str() {
            "action.ack" => action.acks.push((h.at, p.change)),
            "error" => {
                action.refused = true;
                self.outstanding = self.outstanding.saturating_sub(2);
            }
            _ if h.watcher => {
                action.heard.push((h.at, p.change));
                self.changes[h.pair].push(p.change.unwrap_or(-1));
            }
            _ => action.echoes += 1,
        }
    }
}

pub async fn actions(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let users = ctx.users(PAIRS * 2).await?;
    let per_pair = (RATE * RUN.as_secs_f64() / PAIRS as f64).round() as usize;
    // One more message for the warm-up.
    let messages = per_pair.div_ceil(KINDS.len()) + 1;
    progress(&format!(
        "{PAIRS} direct chats, {messages} messages stored in each by its author"
    ));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (mut chats, mut ids, mut sinks, mut last_change) = (vec![], vec![], vec![], vec![]);
    for (pair, two) in users.chunks(2).enumerate() {
        let chat = ctx.api.conversation(&two[0], &[&two[1]], None).await?;
        let mut author = ctx.api.ws(&two[0], None).await?;
        let (stored, change) = store(&mut author, &two[0], &chat, messages).await?;
        let watcher = ctx.api.ws(&two[1], None).await?;
        sinks.push(listen(author, pair, false, tx.clone()));
        drop(listen(watcher, pair, true, tx.clone()));
        chats.push(chat);
        ids.push(stored);
        last_change.push(change);
    }
    drop(tx);
    let mut book = Book {
        changes: vec![Vec::new(); PAIRS],
        ..Book::default()
    };
    let act = |book: &mut Book, pair: usize, n: usize, warm: bool| {
        let (m, kind) = if warm {
            (messages - 1, KINDS[n])
        } else {
            (n / KINDS.len(), KINDS[n % KINDS.len()])
        };
        let text = edited(pair, m);
        let what = match kind {
            Kind::Edit => Act::Edit(&text),
            Kind::React => Act::React(EMOJI),
            Kind::Delete => Act::Delete,
        };
        let id = action_id();
        let frame = action_frame(&id, &chats[pair], &ids[pair][m], what);
        book.sent(kind, &ids[pair][m], &id, warm);
        frame
    };

    // Warm-up, not timed: each kind once in every chat.
    for n in 0..KINDS.len() {
        for (pair, sink) in sinks.iter_mut().enumerate() {
            sink.send(act(&mut book, pair, n, true)).await?;
        }
    }
    drain(&mut book, &mut rx).await;
    if book.outstanding > 0 || !book.errors.is_empty() {
        return Err(format!(
            "warm-up: {} frames missing; {}",
            book.outstanding,
            book.errors.join("; ")
        )
        .into());
    }

    progress(&format!(
        "{PAIRS} authors at {RATE} actions/s in all (edit, react, delete, ...) for {} s",
        RUN.as_secs()
    ));
    let snapshot = ctx.target.probe.start();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
    let mut done = vec![0; PAIRS];
    let started = Instant::now();
    let total = per_pair * PAIRS;
    let mut sent = 0;
    while sent < total {
        tokio::select! {
            _ = tick.tick() => {
                let pair = sent % PAIRS;
                let frame = act(&mut book, pair, done[pair], false);
                sinks[pair].send(frame).await?;
                done[pair] += 1;
                sent += 1;
            }
            Some(heard) = rx.recv() => book.heard(heard),
        }
    }
    let sending = started.elapsed();
    drain(&mut book, &mut rx).await;
    let usage = ctx.target.probe.finish(&snapshot);
    drop(sinks);

    let mut outcome = Outcome::new("actions", "action→other member");
    let (mut all, mut acks) = (histogram(), histogram());
    let mut by_kind = KINDS.map(|_| histogram());
    let mut problems = std::mem::take(&mut book.problems);
    for a in &book.actions {
        if a.acks.len() != 1 && !a.refused {
            problems.push(format!("an action acked {} times", a.acks.len()));
        }
        if !a.refused && (a.heard.len() != 1 || a.echoes != 1) {
            problems.push(format!(
                "a {:?} heard {} times by the other member, {} by its author",
                a.kind,
                a.heard.len(),
                a.echoes
            ));
        }
        if let (Some((_, ack)), Some((_, heard))) = (a.acks.first(), a.heard.first())
            && ack != heard
        {
            problems.push(format!("ack change {ack:?}, notification's {heard:?}"));
        }
        if a.warm {
            continue;
        }
        if let Some(&(at, _)) = a.acks.first() {
            record(&mut acks, at.duration_since(a.sent));
        }
        if let Some(&(at, _)) = a.heard.first() {
            record(&mut all, at.duration_since(a.sent));
            record(&mut by_kind[a.kind as usize], at.duration_since(a.sent));
        }
    }
    // Nobody else changes these chats: the other member hears change
    // numbers one by one, from the one after the last stored message.
    for (pair, changes) in book.changes.iter().enumerate() {
        let expected: Vec<i64> = (1..=changes.len() as i64)
            .map(|n| last_change[pair] + n)
            .collect();
        if *changes != expected {
            problems.push(format!(
                "pair {pair}: changes heard {:?}…, expected {:?}…",
                &changes[..changes.len().min(5)],
                &expected[..expected.len().min(5)]
            ));
        }
    }
    problems.extend(final_states(ctx, &users, &chats, &ids, &done).await?);
    outcome.count = all.len();
    outcome.rate = Some(per_second(sent as u64, sending));
    outcome.latency = Latency::of(&all);
    outcome.figure("pairs", PAIRS);
    outcome.figure("actions", sent);
    outcome.figure("errors", book.errors.len());
    let ms = |us: u64| us as f64 / 1000.0;
    let mut note = format!(
        "{PAIRS} authors, {RATE:.0} actions/s for {} s",
        RUN.as_secs()
    );
    let named = KINDS.iter().map(|k| (k.name(), &by_kind[*k as usize]));
    for (name, h) in [("ack", &acks)].into_iter().chain(named) {
        if h.is_empty() {
            continue;
        }
        outcome.figure(&format!("{name}_p50_ms"), ms(h.value_at_quantile(0.5)));
        outcome.figure(&format!("{name}_p99_ms"), ms(h.value_at_quantile(0.99)));
        outcome.figure(&format!("{name}_max_ms"), ms(h.max()));
        note.push_str(&format!(
            "; {name} p50 {:.2} / p99 {:.2} / max {:.2} ms",
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max())
        ));
    }
    for (who, cpu) in [("server", usage.server_cpu_s), ("pg", usage.pg_cpu_s)] {
        if let Some(us) = cpu.map(|s| s * 1e6 / sent.max(1) as f64) {
            outcome.figure(
                &format!("{who}_cpu_us_per_action"),
                (us * 10.0).round() / 10.0,
            );
        }
    }
    outcome.usage = Some(usage);
    outcome.expect("refused", &book.errors);
    outcome.expect("heard", &problems);
    if outcome.ok {
        outcome.check = "each action acked once, heard once by both members in change order; \
                         history shows the final states"
            .into();
    }
    outcome.note = note;
    Ok(outcome)
}

/// Reads what the sockets heard until nothing is outstanding, or nothing
/// came for [`PATIENCE`].
async fn drain(book: &mut Book, rx: &mut mpsc::UnboundedReceiver<Heard>) {
    while book.outstanding > 0 {
        match tokio::time::timeout(PATIENCE, rx.recv()).await {
            Ok(Some(heard)) => book.heard(heard),
            _ => return,
        }
    }
}

/// Each chat's newest page as its author reads it now: message `m` edited
/// if its edit was sent, with the author's 👍 if that was, deleted if
/// that was; the warm-up's (the newest) deleted.
async fn final_states(
    ctx: &Ctx<'_>,
    users: &[User],
    chats: &[String],
    ids: &[Vec<String>],
    done: &[usize],
) -> Res<Vec<String>> {
    let mut problems = Vec::new();
    for pair in 0..PAIRS {
        let author = &users[2 * pair];
        let page = ctx.api.history(author, &chats[pair], None, 100).await?;
        let shown: HashMap<&str, &client::PageMessage> = page
            .messages
            .iter()
            .map(|m| (m.message_id.as_str(), m))
            .collect();
        for (m, id) in ids[pair].iter().enumerate() {
            let acted = if m == ids[pair].len() - 1 {
                KINDS.len()
            } else {
                done[pair].saturating_sub(m * KINDS.len()).min(KINDS.len())
            };
            let Some(seen) = shown.get(id.as_str()) else {
                problems.push(format!("pair {pair}: message {m} not on the newest page"));
                continue;
            };
            let reacted = seen
                .reactions
                .iter()
                .any(|r| r.emoji == EMOJI && r.count == 1 && r.mine);
            let right = match acted {
                0 => seen.edited_at.is_none() && seen.reactions.is_empty() && !seen.deleted,
                1 => seen.content.as_deref() == Some(&edited(pair, m)) && seen.edited_at.is_some(),
                2 => seen.edited_at.is_some() && reacted && seen.reactions.len() == 1,
                _ => seen.deleted && seen.content.is_none() && seen.reactions.is_empty(),
            };
            if !right {
                problems.push(format!(
                    "pair {pair}: message {m} after {acted} actions shows content {:?}, \
                     edited {:?}, deleted {}, {} reactions",
                    seen.content,
                    seen.edited_at,
                    seen.deleted,
                    seen.reactions.len()
                ));
            }
        }
    }
    Ok(problems)
}
