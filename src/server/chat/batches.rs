//! Which queued sends go into the next batch, when more than one batch may
//! be committing at once.
//!
//! Every send has keys: its conversation, and the connection it came from
//! (if any). A batch takes sends in queue order, skipping any whose key is
//! held by a batch still committing, or by a send skipped before it (so a
//! key's sends never overtake each other). Hence each conversation and each
//! connection is in at most one batch in flight: a conversation's `seq`
//! follows queue order, and a connection's acks the order of its frames,
//! exactly as with one batch at a time.

use super::hub::ConnectionId;
use crate::protocol::ConversationId;
use std::collections::{HashSet, VecDeque};

/// What orders sends: none may overtake an earlier one with a key in common.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Conversation(ConversationId),
    Connection(ConnectionId),
}

/// The sends waiting for a batch, and the keys of the batches in flight.
pub(super) struct Batches<T> {
    waiting: VecDeque<(T, [Option<Key>; 2])>,
    in_flight: HashSet<Key>,
    batch_max: usize,
}

impl<T> Batches<T> {
    pub(super) fn new(batch_max: usize) -> Self {
        Self {
            waiting: VecDeque::new(),
            in_flight: HashSet::new(),
            batch_max: batch_max.max(1),
        }
    }

    /// Queues a send behind every other.
    pub(super) fn push(&mut self, send: T, keys: [Option<Key>; 2]) {
        self.waiting.push_back((send, keys));
    }

    pub(super) fn len(&self) -> usize {
        self.waiting.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The next batch (in queue order, at most `batch_max`) and its keys,
    /// now in flight; `None` when no waiting send may go yet.
    pub(super) fn next_batch(&mut self) -> Option<(Vec<T>, Vec<Key>)> {
        if self.waiting.is_empty() {
            return None;
        }
        let mut batch = Vec::new();
        let mut taken: HashSet<Key> = HashSet::new();
        let mut skipped: HashSet<Key> = HashSet::new();
        let mut left = VecDeque::new();
        for (send, keys) in self.waiting.drain(..) {
            let keys_iter = keys.iter().flatten();
            let blocked = keys_iter
                .clone()
                .any(|k| self.in_flight.contains(k) || skipped.contains(k));
            if blocked || batch.len() == self.batch_max {
                skipped.extend(keys_iter);
                left.push_back((send, keys));
            } else {
                taken.extend(keys_iter);
                batch.push(send);
            }
        }
        self.waiting = left;
        if batch.is_empty() {
            return None;
        }
        self.in_flight.extend(taken.iter().copied());
        Some((batch, taken.into_iter().collect()))
    }

    /// A batch has committed (or failed): its keys are free again.
    pub(super) fn done(&mut self, keys: &[Key]) {
        for key in keys {
            self.in_flight.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(n: u128) -> Option<Key> {
        Some(Key::Conversation(ConversationId(uuid::Uuid::from_u128(n))))
    }

    fn conn(n: u64) -> Option<Key> {
        Some(Key::Connection(ConnectionId::from_raw(n)))
    }

    #[test]
    fn one_batch_takes_everything_in_order_when_nothing_is_in_flight() {
        let mut b = Batches::new(10);
        for (i, c) in [1, 2, 1, 3].into_iter().enumerate() {
            b.push(i, [conv(c), conn(i as u64)]);
        }
        let (batch, keys) = b.next_batch().unwrap();
        assert_eq!(batch, [0, 1, 2, 3]);
        assert_eq!(keys.len(), 3 + 4);
        assert!(b.is_empty());
        assert!(b.next_batch().is_none());
    }

    #[test]
    fn a_conversation_in_flight_waits_and_keeps_its_order() {
        let mut b = Batches::new(10);
        b.push("a1", [conv(1), conn(1)]);
        let (first, keys) = b.next_batch().unwrap();
        assert_eq!(first, ["a1"]);
        // Conversation 1 is committing: its next sends wait, others go.
        b.push("a2", [conv(1), conn(2)]);
        b.push("b1", [conv(2), conn(3)]);
        b.push("a3", [conv(1), conn(4)]);
        let (second, second_keys) = b.next_batch().unwrap();
        assert_eq!(second, ["b1"]);
        assert!(b.next_batch().is_none(), "nothing else may go yet");
        b.done(&keys);
        b.push("a4", [conv(1), conn(5)]);
        let (third, _) = b.next_batch().unwrap();
        assert_eq!(third, ["a2", "a3", "a4"]);
        b.done(&second_keys);
        assert!(b.is_empty());
    }

    #[test]
    fn a_connection_in_flight_waits_even_for_another_conversation() {
        let mut b = Batches::new(10);
        b.push(1, [conv(1), conn(7)]);
        let (_, keys) = b.next_batch().unwrap();
        b.push(2, [conv(2), conn(7)]);
        b.push(3, [conv(3), None]);
        assert_eq!(b.next_batch().unwrap().0, [3]);
        b.done(&keys);
        assert_eq!(b.next_batch().unwrap().0, [2]);
    }

    #[test]
    fn a_full_batch_leaves_the_rest_and_nothing_overtakes_it() {
        let mut b = Batches::new(2);
        b.push(1, [conv(1), None]);
        b.push(2, [conv(2), None]);
        b.push(3, [conv(2), None]);
        b.push(4, [conv(3), None]);
        b.push(5, [conv(2), None]);
        let (first, keys) = b.next_batch().unwrap();
        assert_eq!(first, [1, 2]);
        // 3 stayed behind (full), so 5 of the same conversation stays too;
        // 4 could go, but only in a batch of its own while 2 commits.
        let (second, _) = b.next_batch().unwrap();
        assert_eq!(second, [4]);
        b.done(&keys);
        assert_eq!(b.next_batch().unwrap().0, [3, 5]);
    }
}
