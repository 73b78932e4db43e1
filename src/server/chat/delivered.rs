//! Which places of each conversation this node has pushed to its
//! connections, so that each message goes out once whichever way it
//! arrives: from this node's own commits, a retry that found its message
//! already stored, another node's wake-up, or a catch-up read after the
//! listener was away.
//!
//! Places arrive out of order when several nodes write one conversation: this
//! node stores 12 while 11 (written elsewhere) reaches it a moment later, or
//! only after a database restart, when this node has stored hundreds more.
//! So what is remembered is the highest place pushed and the *holes* below it
//! (ranges not pushed yet), not a fixed window: a hole is filled whenever its
//! message turns up, however far behind it is by then.

/// At most this many holes per conversation; past it the oldest is given up
/// (its messages are in the history, which a client reads when it opens the
/// conversation or reconnects).
const MAX_HOLES: usize = 1024;

/// Conversations whose delivered places are remembered; past this many the
/// record starts over (at worst a message is pushed twice, and clients know
/// a message by its id).
const CAPACITY: usize = 100_000;

/// The places this node has pushed, per conversation.
#[derive(Default)]
pub(crate) struct Delivered {
    seen: std::sync::Mutex<std::collections::HashMap<crate::protocol::ConversationId, Seen>>,
}

impl Delivered {
    /// True if this node has not pushed `seq` of `conversation` yet (and now
    /// counts it as pushed).
    pub(crate) fn first_time(
        &self,
        conversation: crate::protocol::ConversationId,
        seq: i64,
    ) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= CAPACITY && !seen.contains_key(&conversation) {
            seen.clear();
        }
        seen.entry(conversation).or_default().first_time(seq)
    }
}

/// What this node has pushed of one conversation: every place up to `high`
/// except the `holes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    high: i64,
    /// Inclusive ranges of places below `high` not pushed yet: sorted,
    /// disjoint, and empty in the usual case of places arriving in order.
    holes: Vec<(i64, i64)>,
}

impl Seen {
    /// Records `seq` (places count from 1); false if it was pushed before.
    pub(crate) fn first_time(&mut self, seq: i64) -> bool {
        if seq > self.high {
            if seq > self.high + 1 {
                if self.holes.len() == MAX_HOLES {
                    self.holes.remove(0);
                }
                self.holes.push((self.high + 1, seq - 1));
            }
            self.high = seq;
            return true;
        }
        let i = self.holes.partition_point(|&(_, last)| last < seq);
        let Some(&(first, last)) = self.holes.get(i) else {
            return false;
        };
        if seq < first {
            return false;
        }
        match (seq == first, seq == last) {
            (true, true) => {
                self.holes.remove(i);
            }
            (true, false) => self.holes[i].0 = seq + 1,
            (false, true) => self.holes[i].1 = seq - 1,
            (false, false) => {
                self.holes[i].1 = seq - 1;
                self.holes.insert(i + 1, (seq + 1, last));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_place_is_pushed_once_in_any_order() {
        let mut seen = Seen::default();
        assert!(seen.first_time(5));
        assert!(!seen.first_time(5));
        assert!(seen.first_time(7));
        assert!(seen.first_time(6), "late, but not lost");
        assert!(!seen.first_time(6));
        assert!(seen.first_time(3), "older than the first place seen");
        assert!(!seen.first_time(3));
        assert!(seen.first_time(1));
        assert!(seen.first_time(2));
        assert!(seen.first_time(4));
        for seq in 1..=7 {
            assert!(!seen.first_time(seq), "{seq} twice");
        }
        assert_eq!(seen.holes, []);
    }

    #[test]
    fn a_place_far_behind_what_this_node_stored_since_is_still_pushed() {
        // Another node's messages 2, 4, 6, ... reach this one only after it
        // stored its own 1, 3, 5, ... 999 (its listener was away).
        let mut seen = Seen::default();
        for seq in (1..1000).step_by(2) {
            assert!(seen.first_time(seq));
        }
        for seq in (2..1000).step_by(2) {
            assert!(seen.first_time(seq), "{seq} lost");
        }
        for seq in 1..1000 {
            assert!(!seen.first_time(seq), "{seq} twice");
        }
        assert_eq!(seen.holes, []);
    }

    #[test]
    fn holes_are_bounded_and_the_oldest_is_given_up() {
        let mut seen = Seen::default();
        for n in 0..=MAX_HOLES as i64 {
            seen.first_time(2 * n + 2);
        }
        assert_eq!(seen.holes.len(), MAX_HOLES);
        assert!(!seen.first_time(1), "the oldest hole was given up");
        assert!(seen.first_time(3));
    }
}
