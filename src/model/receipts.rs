//! Ticks: how far the others in the open conversation have received and
//! read, and so what each of my messages shows (one tick stored, two
//! delivered, two coloured seen; in a group, "Seen by 3"). Also when this
//! page says how far it has received (`conversation.delivered`, at most
//! once a second per conversation).
//!
//! A marker names a message. One that is not in the timeline is older
//! than everything shown when it comes with the page, and at least as far
//! as the newest stored message when it arrives live (markers only move
//! forward, and a reader cannot have read what was stored after what this
//! page has).

use super::timeline::Timeline;
use crate::protocol::{ClientEvent, ConversationId, MemberMarkers, MessageId, ReadPayload, UserId};
use std::collections::HashMap;

/// At most one `conversation.delivered` per conversation this often.
pub(crate) const DELIVERED_EVERY_MS: i64 = 1_000;

/// What one of my stored messages shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Receipt {
    /// Stored; nobody else has it yet.
    Sent,
    /// On a device of everyone else.
    Delivered,
    /// Read by everyone else.
    Seen,
}

/// How far one member has received and read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Marks {
    delivered: Option<MessageId>,
    read: Option<MessageId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Receipts {
    /// The open conversation's members but me.
    marks: HashMap<UserId, Marks>,
}

impl Receipts {
    /// The markers the page came with.
    pub(crate) fn from_page(markers: &[MemberMarkers], me: UserId) -> Self {
        let marks = markers
            .iter()
            .filter(|m| m.user_id != me)
            .map(|m| {
                let marks = Marks {
                    delivered: m.delivered.clone(),
                    read: m.read.clone(),
                };
                (m.user_id, marks)
            })
            .collect();
        Self { marks }
    }

    /// `user`'s marker moved (live) to `message`.
    pub(crate) fn moved(&mut self, user: UserId, read: bool, message: MessageId, shown: &Timeline) {
        let message = if shown.position(&message).is_some() {
            Some(message)
        } else {
            shown.newest_stored().map(|m| m.message_id.clone())
        };
        let marks = self.marks.entry(user).or_default();
        if read {
            marks.read = message.clone();
        }
        marks.delivered = further(shown, marks.delivered.take(), message);
    }

    /// Someone left: their marks no longer count.
    pub(crate) fn forget(&mut self, user: UserId) {
        self.marks.remove(&user);
    }

    /// For each of the timeline's messages, by index: what it shows if it
    /// is mine and stored.
    pub(crate) fn of(&self, shown: &Timeline) -> Vec<Receipt> {
        let marks: Vec<(Option<usize>, Option<usize>)> = self
            .marks
            .values()
            .map(|m| {
                let read = place(shown, &m.read);
                (place(shown, &m.delivered).max(read), read)
            })
            .collect();
        let reached = |at: Option<usize>, i: usize| at.is_some_and(|at| at >= i);
        (0..shown.messages().len())
            .map(|i| {
                if marks.is_empty() {
                    Receipt::Sent
                } else if marks.iter().all(|(_, read)| reached(*read, i)) {
                    Receipt::Seen
                } else if marks.iter().all(|(delivered, _)| reached(*delivered, i)) {
                    Receipt::Delivered
                } else {
                    Receipt::Sent
                }
            })
            .collect()
    }

    /// Who has read the message at `index` of the timeline.
    pub(crate) fn seen_by(&self, shown: &Timeline, index: usize) -> Vec<UserId> {
        let mut users: Vec<UserId> = self
            .marks
            .iter()
            .filter(|(_, m)| place(shown, &m.read).is_some_and(|at| at >= index))
            .map(|(user, _)| *user)
            .collect();
        users.sort_unstable();
        users
    }
}

fn place(shown: &Timeline, marker: &Option<MessageId>) -> Option<usize> {
    marker.as_ref().and_then(|m| shown.position(m))
}

/// When this page says how far it has received, per conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeliveryReports {
    /// When each conversation's last report went.
    sent_at: HashMap<ConversationId, i64>,
    /// Reports waiting for their second to pass.
    waiting: HashMap<ConversationId, MessageId>,
}

impl DeliveryReports {
    /// `message` of `conversation` reached this page: the report, now or
    /// (held back) from [`Self::due`].
    pub(crate) fn received(
        &mut self,
        conversation: ConversationId,
        message: MessageId,
        now_ms: i64,
    ) -> Option<ClientEvent> {
        let last = self.sent_at.get(&conversation).copied();
        if last.is_some_and(|at| now_ms - at < DELIVERED_EVERY_MS) {
            self.waiting.insert(conversation, message);
            return None;
        }
        self.sent_at.insert(conversation, now_ms);
        self.waiting.remove(&conversation);
        Some(report(conversation, message))
    }

    /// The held-back reports whose second has passed.
    pub(crate) fn due(&mut self, now_ms: i64) -> Vec<ClientEvent> {
        let ready: Vec<ConversationId> = self
            .waiting
            .keys()
            .filter(|c| {
                self.sent_at
                    .get(c)
                    .is_none_or(|at| now_ms - at >= DELIVERED_EVERY_MS)
            })
            .copied()
            .collect();
        ready
            .into_iter()
            .filter_map(|c| {
                let message = self.waiting.remove(&c)?;
                self.sent_at.insert(c, now_ms);
                Some(report(c, message))
            })
            .collect()
    }

    /// When the next held-back report is due.
    pub(crate) fn next_due_ms(&self) -> Option<i64> {
        self.waiting
            .keys()
            .filter_map(|c| self.sent_at.get(c).map(|at| at + DELIVERED_EVERY_MS))
            .min()
    }

    /// Read implies delivered: no report needed for what was read.
    pub(crate) fn read(&mut self, conversation: ConversationId) {
        self.waiting.remove(&conversation);
    }
}

/// Whichever of two markers is further along the timeline.
fn further(shown: &Timeline, a: Option<MessageId>, b: Option<MessageId>) -> Option<MessageId> {
    if place(shown, &b) >= place(shown, &a) {
        b.or(a)
    } else {
        a
    }
}

fn report(conversation: ConversationId, message: MessageId) -> ClientEvent {
    ClientEvent::Delivered(ReadPayload {
        conversation_id: conversation,
        message_id: message,
    })
}
