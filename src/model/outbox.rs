//! Messages sent but not yet acknowledged. The browser also keeps each entry
//! in localStorage (one key per message, so tabs never overwrite each other's
//! entries), so a reload, a crash or a night offline loses nothing: on every
//! (re)connect each entry is sent again with the same `message_id`, which the
//! server stores at most once.

use crate::protocol::{ConversationId, MessageId, MessagePayload};
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    /// In the order they were written.
    pending: Vec<MessagePayload>,
}

impl Outbox {
    /// Adds a message (a second add of the same id is ignored).
    pub fn push(&mut self, message: MessagePayload) -> bool {
        if self.contains(&message.message_id) {
            return false;
        }
        self.pending.push(message);
        true
    }

    pub fn contains(&self, id: &MessageId) -> bool {
        self.pending.iter().any(|m| &m.message_id == id)
    }

    /// Acknowledged (or refused for good): out of the outbox.
    pub fn remove(&mut self, id: &MessageId) -> Option<MessagePayload> {
        let index = self.pending.iter().position(|m| &m.message_id == id)?;
        Some(self.pending.remove(index))
    }

    pub fn iter(&self) -> impl Iterator<Item = &MessagePayload> {
        self.pending.iter()
    }

    pub fn in_conversation(
        &self,
        conversation: ConversationId,
    ) -> impl Iterator<Item = &MessagePayload> {
        self.pending
            .iter()
            .filter(move |m| m.conversation_id == conversation)
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::UserId;

    fn message(conversation: ConversationId, id: &str) -> MessagePayload {
        MessagePayload {
            conversation_id: conversation,
            sender_id: UserId::new_v7(),
            message_id: MessageId::parse(id).unwrap(),
            content: "hi".into(),
            timestamp: 1,
        }
    }

    #[test]
    fn keeps_each_message_once_in_order_until_acknowledged() {
        let (a, b) = (ConversationId::new_v7(), ConversationId::new_v7());
        let mut outbox = Outbox::default();
        assert!(outbox.push(message(a, "m1")));
        assert!(outbox.push(message(b, "m2")));
        assert!(outbox.push(message(a, "m3")));
        assert!(!outbox.push(message(a, "m1")));
        let ids: Vec<&str> = outbox.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3"]);
        assert_eq!(outbox.in_conversation(a).count(), 2);
        assert!(outbox.remove(&MessageId::parse("m2").unwrap()).is_some());
        assert!(outbox.remove(&MessageId::parse("m2").unwrap()).is_none());
        assert_eq!(outbox.len(), 2);
    }
}
