//! `history`'s second conversation: a tenth of its messages are replies
//! and a third carry reactions; how they are given (through the WebSocket,
//! as people give them) and what each page must show of them.

use super::reads::FILL_WINDOW;
use super::{Rng, expect_frame};
use crate::Res;
use crate::client::{self, Act, PageMessage, Ws, action_frame, action_id};
use futures::StreamExt;
use futures::stream::SplitStream;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Reads `stream` until `count` frames named `event` or `error` have come,
/// giving a credit back to `window` for each: the errors' codes and words.
pub(super) async fn answers(
    mut stream: SplitStream<Ws>,
    event: &'static str,
    count: usize,
    window: Arc<Semaphore>,
) -> Res<Vec<String>> {
    let mut errors = Vec::new();
    let mut answered = 0;
    while answered < count {
        let frame = expect_frame(&mut stream).await?;
        if frame.event == "error" {
            let p = frame.payload;
            errors.push(format!(
                "{}: {} ({})",
                p.code.unwrap_or_default(),
                p.message.unwrap_or_default(),
                p.action_id.or(p.message_id).unwrap_or_default()
            ));
        } else if frame.event != event {
            continue;
        }
        answered += 1;
        window.add_permits(1);
    }
    Ok(errors)
}

/// Adds each reaction of `plan` (message id, emoji) as the user of `ws`,
/// pipelined like `fill`, and waits for every `action.ack`.
pub(super) async fn react(ws: Ws, chat: String, plan: Vec<(String, &'static str)>) -> Res<()> {
    let (mut sink, stream) = ws.split();
    let window = Arc::new(Semaphore::new(FILL_WINDOW));
    let acks = tokio::spawn(answers(stream, "action.ack", plan.len(), window.clone()));
    for (message, emoji) in &plan {
        window.acquire().await?.forget();
        let frame = action_frame(&action_id(), &chat, message, Act::React(emoji));
        client::send(&mut sink, frame).await?;
    }
    let errors = acks.await??;
    match errors.first() {
        Some(first) => Err(format!("reacting: {} errors ({first})", errors.len()).into()),
        None => Ok(()),
    }
}

/// The second conversation's shape, by message (0 the oldest): a tenth
/// answer an older message (any, far back or recent), and every third
/// carries reactions: the reader's 👍 on each, a second 👍 on every sixth,
/// a 😂 on every ninth.
pub(super) struct Shape {
    pub(super) replies: HashMap<usize, usize>,
}

pub(super) const REACTORS: [(usize, &str); 3] = [(3, "👍"), (6, "👍"), (9, "😂")];

impl Shape {
    pub(super) fn new(count: usize) -> Self {
        let mut rng = Rng::new(14);
        let first = FILL_WINDOW + 1;
        let replies = (0..count / 10)
            .map(|r| first + r * (count - first) / (count / 10))
            .map(|k| (k, rng.below(k - FILL_WINDOW)))
            .collect();
        Self { replies }
    }

    /// The reactions message `k` should show its writer: (emoji, count,
    /// mine), by emoji.
    pub(super) fn reactions(k: usize) -> Vec<(&'static str, u64, bool)> {
        let mut out: Vec<(&str, u64, bool)> = Vec::new();
        for (n, (every, emoji)) in REACTORS.iter().enumerate() {
            if !k.is_multiple_of(*every) {
                continue;
            }
            match out.iter_mut().find(|r| r.0 == *emoji) {
                Some(r) => r.1 += 1,
                None => out.push((emoji, 1, n == 0)),
            }
        }
        out
    }

    /// What is wrong with message `k` as a page showed it.
    pub(super) fn differs(&self, k: usize, seen: &PageMessage, sent: &[String]) -> Option<String> {
        let reply = seen.reply.as_ref().map(|q| q.message_id.as_str());
        let expected = self.replies.get(&k).map(|&j| sent[j].as_str());
        if reply != expected {
            return Some(format!(
                "message {k}: reply {reply:?}, expected {expected:?}"
            ));
        }
        let mut got: Vec<(&str, u64, bool)> = seen
            .reactions
            .iter()
            .map(|r| (r.emoji.as_str(), r.count, r.mine))
            .collect();
        got.sort();
        let mut want = Self::reactions(k);
        want.sort();
        (got != want).then(|| format!("message {k}: reactions {got:?}, expected {want:?}"))
    }
}
