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
    /// The open conversation's members but me (a list: a few hundred at
    /// most, and less code in the browser's bundle than a map).
    marks: Vec<(UserId, Marks)>,
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
        let at = match self.marks.iter().position(|(u, _)| *u == user) {
            Some(at) => at,
            None => {
                self.marks.push((user, Marks::default()));
                self.marks.len() - 1
            }
        };
        let marks = &mut self.marks[at].1;
        if read {
            marks.read = message.clone();
        }
        marks.delivered = further(shown, marks.delivered.take(), message);
    }

    /// Someone left: their marks no longer count.
    pub(crate) fn forget(&mut self, user: UserId) {
        self.marks.retain(|(u, _)| *u != user);
    }

    /// For each of the timeline's messages, by index: what it shows if it
    /// is mine and stored.
    pub(crate) fn of(&self, shown: &Timeline) -> Vec<Receipt> {
        let marks: Vec<(Option<usize>, Option<usize>)> = self
            .marks
            .iter()
            .map(|(_, m)| {
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

    /// Whether `user` has read the message at `index` of the timeline.
    pub(crate) fn has_seen(&self, user: UserId, shown: &Timeline, index: usize) -> bool {
        self.marks
            .iter()
            .any(|(u, m)| *u == user && place(shown, &m.read).is_some_and(|at| at >= index))
    }
}

fn place(shown: &Timeline, marker: &Option<MessageId>) -> Option<usize> {
    marker.as_ref().and_then(|m| shown.position(m))
}

/// When this page says how far it has received, per conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeliveryReports {
    /// Each conversation reported in: when its last report went, and the
    /// report waiting for its second to pass.
    reports: Vec<(ConversationId, i64, Option<MessageId>)>,
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
        match self.reports.iter_mut().find(|(c, ..)| *c == conversation) {
            Some((_, sent_at, waiting)) if now_ms - *sent_at < DELIVERED_EVERY_MS => {
                *waiting = Some(message);
                None
            }
            Some((_, sent_at, waiting)) => {
                *sent_at = now_ms;
                *waiting = None;
                Some(report(conversation, message))
            }
            None => {
                self.reports.push((conversation, now_ms, None));
                Some(report(conversation, message))
            }
        }
    }

    /// The held-back reports whose second has passed.
    pub(crate) fn due(&mut self, now_ms: i64) -> Vec<ClientEvent> {
        let mut due = Vec::new();
        for (conversation, sent_at, waiting) in &mut self.reports {
            if now_ms - *sent_at >= DELIVERED_EVERY_MS
                && let Some(message) = waiting.take()
            {
                *sent_at = now_ms;
                due.push(report(*conversation, message));
            }
        }
        due
    }

    /// When the next held-back report is due.
    pub(crate) fn next_due_ms(&self) -> Option<i64> {
        self.reports
            .iter()
            .filter(|(_, _, waiting)| waiting.is_some())
            .map(|(_, sent_at, _)| sent_at + DELIVERED_EVERY_MS)
            .min()
    }

    /// Read implies delivered: no report needed for what was read.
    pub(crate) fn read(&mut self, conversation: ConversationId) {
        if let Some((.., waiting)) = self.reports.iter_mut().find(|(c, ..)| *c == conversation) {
            *waiting = None;
        }
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
