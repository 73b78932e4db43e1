//! Messages written but not yet acknowledged, and when each goes (again).
//!
//! The browser also keeps each entry in localStorage (one key per message,
//! so tabs never overwrite each other's entries), so a reload, a crash or a
//! night offline loses nothing: every entry is sent with the same
//! `message_id` until the server acknowledges it, and the server stores it
//! at most once.
//!
//! Each entry has its own schedule. A new message goes at once. One the
//! server turned away for now (`unavailable`, `rate_limited`) waits before
//! it goes again, longer after each refusal, with jitter
//! ([`retry_delay_ms`]): ten messages written during a database outage cost
//! a few frames each, not ten resends of the whole outbox per refusal. One
//! sent but never answered goes again after [`ANSWER_TIMEOUT_MS`]. A new
//! connection makes every entry due at once and starts each schedule over
//! (the old connection's answers may be lost).
//!
//! Times are milliseconds on any clock the caller keeps increasing (the
//! browser's `Date.now()`, a test's `Instant`), so the policy is plain data,
//! tested here and used as it is by the browser and by the integration
//! tests' chat client.

use super::backoff::delay_ms;
use crate::protocol::{ConversationId, MessageId, MessagePayload};

/// The first wait after a refusal; it doubles with each one after.
pub const RETRY_BASE_MS: u32 = 1_000;
/// The longest wait between two tries of one message.
pub const RETRY_CAP_MS: u32 = 30_000;
/// A message sent on a live connection that got neither an ack nor an
/// error in this long is sent again (the server answers every send; this
/// only covers a reply lost on the way).
pub const ANSWER_TIMEOUT_MS: i64 = 15_000;

/// How long a message waits after its `refusals`-th refusal for now;
/// `random` is uniform in [0, 1).
pub fn retry_delay_ms(refusals: u32, random: f64) -> u32 {
    delay_ms(
        refusals.saturating_sub(1),
        RETRY_BASE_MS,
        RETRY_CAP_MS,
        random,
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    message: MessagePayload,
    /// Times it went out since the schedule last started over.
    sends: u32,
    /// Refusals for now since then.
    refusals: u32,
    /// Not before this; `None` while it waits for its answer.
    due_ms: Option<i64>,
    /// When it last went out.
    sent_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    /// In the order they were written.
    entries: Vec<Entry>,
}

impl Outbox {
    /// Adds a message, due at once (a second add of the same id is
    /// ignored).
    pub fn push(&mut self, message: MessagePayload, now_ms: i64) -> bool {
        if self.contains(&message.message_id) {
            return false;
        }
        self.entries.push(Entry {
            message,
            sends: 0,
            refusals: 0,
            due_ms: Some(now_ms),
            sent_ms: now_ms,
        });
        true
    }

    pub fn contains(&self, id: &MessageId) -> bool {
        self.entries.iter().any(|e| &e.message.message_id == id)
    }

    /// The messages due by `now`, oldest first, at most `limit` of them
    /// (the rest of a window of unanswered sends, say): each counts as sent
    /// now and waits for its answer.
    pub fn take_due(&mut self, now_ms: i64, limit: usize) -> Vec<MessagePayload> {
        let mut due = Vec::new();
        for entry in &mut self.entries {
            if due.len() >= limit {
                break;
            }
            let unanswered = entry.due_ms.is_none() && now_ms - entry.sent_ms >= ANSWER_TIMEOUT_MS;
            if entry.due_ms.is_some_and(|at| at <= now_ms) || unanswered {
                entry.due_ms = None;
                entry.sends += 1;
                entry.sent_ms = now_ms;
                due.push(entry.message.clone());
            }
        }
        due
    }

    /// Acknowledged, or refused for good: out of the outbox.
    pub fn remove(&mut self, id: &MessageId) -> Option<MessagePayload> {
        let index = self
            .entries
            .iter()
            .position(|e| &e.message.message_id == id)?;
        Some(self.entries.remove(index).message)
    }

    /// Refused for now: it goes again after its next wait. False when the
    /// outbox does not hold it.
    pub fn refused_for_now(&mut self, id: &MessageId, now_ms: i64, random: f64) -> bool {
        let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| &e.message.message_id == id)
        else {
            return false;
        };
        entry.refusals += 1;
        entry.due_ms = Some(now_ms + i64::from(retry_delay_ms(entry.refusals, random)));
        true
    }

    /// A new connection: every message is due at once, each schedule starts
    /// over.
    pub fn reconnected(&mut self, now_ms: i64) {
        for entry in &mut self.entries {
            entry.due_ms = Some(now_ms);
            entry.sends = 0;
            entry.refusals = 0;
        }
    }

    /// When the next message falls due, if one is waiting for a time.
    pub fn next_due_ms(&self) -> Option<i64> {
        self.entries
            .iter()
            .map(|e| e.due_ms.unwrap_or(e.sent_ms + ANSWER_TIMEOUT_MS))
            .min()
    }

    /// Messages sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.entries.iter().filter(|e| e.due_ms.is_none()).count()
    }

    /// Whether this message was sent and is waiting for its answer.
    pub fn is_in_flight(&self, id: &MessageId) -> bool {
        self.entries
            .iter()
            .any(|e| &e.message.message_id == id && e.due_ms.is_none())
    }

    /// The messages sent and not answered yet.
    pub fn unanswered(&self) -> impl Iterator<Item = &MessageId> {
        self.entries
            .iter()
            .filter(|e| e.due_ms.is_none())
            .map(|e| &e.message.message_id)
    }

    /// How many times this message went out since its schedule last started
    /// over.
    pub fn sends(&self, id: &MessageId) -> Option<u32> {
        self.entries
            .iter()
            .find(|e| &e.message.message_id == id)
            .map(|e| e.sends)
    }

    pub fn iter(&self) -> impl Iterator<Item = &MessagePayload> {
        self.entries.iter().map(|e| &e.message)
    }

    pub fn in_conversation(
        &self,
        conversation: ConversationId,
    ) -> impl Iterator<Item = &MessagePayload> {
        self.iter()
            .filter(move |m| m.conversation_id == conversation)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Content, UserId};

    fn message(conversation: ConversationId, id: &str) -> MessagePayload {
        MessagePayload {
            conversation_id: conversation,
            sender_id: UserId::new_v7(),
            message_id: MessageId::parse(id).unwrap(),
            content: Content::parse("hi").unwrap(),
            timestamp: 1,
            reply_to: None,
            reply: None,
            change: None,
            attachments: Vec::new(),
            mentions: Vec::new(),
        }
    }

    fn ids(messages: &[MessagePayload]) -> Vec<&str> {
        messages.iter().map(|m| m.message_id.as_str()).collect()
    }

    fn id(text: &str) -> MessageId {
        MessageId::parse(text).unwrap()
    }

    #[test]
    fn keeps_each_message_once_in_order_until_acknowledged() {
        let (a, b) = (ConversationId::new_v7(), ConversationId::new_v7());
        let mut outbox = Outbox::default();
        assert!(outbox.push(message(a, "m1"), 0));
        assert!(outbox.push(message(b, "m2"), 0));
        assert!(outbox.push(message(a, "m3"), 0));
        assert!(!outbox.push(message(a, "m1"), 0));
        let all: Vec<&str> = outbox.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(all, ["m1", "m2", "m3"]);
        assert_eq!(outbox.in_conversation(a).count(), 2);
        assert!(outbox.remove(&id("m2")).is_some());
        assert!(outbox.remove(&id("m2")).is_none());
        assert_eq!(outbox.len(), 2);
    }

    #[test]
    fn a_new_message_goes_once_and_then_waits_for_its_answer() {
        let mut outbox = Outbox::default();
        let conv = ConversationId::new_v7();
        outbox.push(message(conv, "m1"), 100);
        outbox.push(message(conv, "m2"), 100);
        assert_eq!(ids(&outbox.take_due(100, 1)), ["m1"], "a window of one");
        assert_eq!(ids(&outbox.take_due(100, 8)), ["m2"]);
        assert!(outbox.take_due(5_000, 8).is_empty(), "both in flight");
        assert_eq!(outbox.in_flight(), 2);
        assert_eq!(outbox.next_due_ms(), Some(100 + ANSWER_TIMEOUT_MS));
        // No answer at all for a long while: sent again.
        assert_eq!(
            ids(&outbox.take_due(100 + ANSWER_TIMEOUT_MS, 8)),
            ["m1", "m2"]
        );
        assert_eq!(outbox.sends(&id("m1")), Some(2));
    }

    #[test]
    fn each_refused_message_backs_off_on_its_own_schedule() {
        let mut outbox = Outbox::default();
        let conv = ConversationId::new_v7();
        for k in 0..10 {
            outbox.push(message(conv, &format!("m{k}")), 0);
        }
        // A database outage of a minute: every send is refused at once.
        // Count the frames the outbox sends.
        let mut frames = 0;
        let mut now = 0;
        while now < 60_000 {
            let due = outbox.take_due(now, usize::MAX);
            frames += due.len();
            for m in &due {
                // Jitter from the message's place, deterministic here.
                let random = (m.message_id.as_str().len() % 7) as f64 / 7.0;
                assert!(outbox.refused_for_now(&m.message_id, now, random));
            }
            now += 100;
        }
        // 1, 2, 4, 8, 16 and 30 s waits (half of each fixed, half random):
        // under ten sends a message in a minute, where resending the whole
        // outbox on every refusal would have been thousands.
        assert!((60..=100).contains(&frames), "{frames} frames");
        let first_wait = retry_delay_ms(1, 0.0);
        assert!((500..=1_000).contains(&first_wait), "{first_wait}");
        assert!(retry_delay_ms(20, 0.999) <= RETRY_CAP_MS);
    }

    #[test]
    fn a_new_connection_sends_everything_again_and_starts_each_schedule_over() {
        let mut outbox = Outbox::default();
        let conv = ConversationId::new_v7();
        outbox.push(message(conv, "m1"), 0);
        outbox.push(message(conv, "m2"), 0);
        outbox.take_due(0, 8);
        for _ in 0..5 {
            outbox.refused_for_now(&id("m1"), 0, 0.5);
        }
        assert!(outbox.take_due(1_000, 8).is_empty());
        outbox.reconnected(2_000);
        assert_eq!(ids(&outbox.take_due(2_000, 8)), ["m1", "m2"]);
        outbox.refused_for_now(&id("m1"), 2_000, 0.0);
        assert_eq!(
            outbox.next_due_ms(),
            Some(2_000 + i64::from(retry_delay_ms(1, 0.0)))
        );
    }
}
