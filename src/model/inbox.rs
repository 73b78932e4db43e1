//! The inbox list as the person sees it: most recent activity first, with a
//! preview and an unread badge per conversation.

use crate::protocol::{ConversationId, InboxEntry, MessagePayload, UserId};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InboxList {
    entries: Vec<InboxEntry>,
}

impl InboxList {
    pub(crate) fn new(entries: Vec<InboxEntry>) -> Self {
        Self { entries }
    }

    pub(crate) fn entries(&self) -> &[InboxEntry] {
        &self.entries
    }

    pub(crate) fn get(&self, conversation: ConversationId) -> Option<&InboxEntry> {
        self.entries
            .iter()
            .find(|e| e.conversation_id == conversation)
    }

    /// A message of `conversation` (received, or sent by me): it becomes the
    /// preview and the row moves to the top. It counts as unread when someone
    /// else wrote it and the conversation is not the one open. False when the
    /// conversation is not listed (someone started it with me: refetch).
    pub(crate) fn record(
        &mut self,
        message: &MessagePayload,
        me: UserId,
        open: Option<ConversationId>,
    ) -> bool {
        let Some(index) = self
            .entries
            .iter()
            .position(|e| e.conversation_id == message.conversation_id)
        else {
            return false;
        };
        let mut entry = self.entries.remove(index);
        if entry.last_message_id.as_ref() != Some(&message.message_id) {
            entry.last_message = Some(message.content.clone());
            entry.last_message_id = Some(message.message_id.clone());
            entry.last_sender_id = Some(message.sender_id);
            entry.timestamp = message.timestamp;
            if message.sender_id == me {
                // Writing in a conversation reads it (the server moves my
                // marker the same way).
                entry.unread_count = 0;
            } else if open != Some(message.conversation_id) {
                entry.unread_count += 1;
            }
        }
        self.entries.insert(0, entry);
        true
    }

    /// The badge clears (the conversation was opened or read elsewhere).
    pub(crate) fn mark_read(&mut self, conversation: ConversationId) -> bool {
        match self
            .entries
            .iter_mut()
            .find(|e| e.conversation_id == conversation)
        {
            Some(entry) if entry.unread_count != 0 => {
                entry.unread_count = 0;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ConversationKind, MessageId};

    fn entry(conversation: ConversationId) -> InboxEntry {
        InboxEntry {
            conversation_id: conversation,
            participant: None,
            last_message: None,
            timestamp: 0,
            kind: ConversationKind::Group,
            title: Some("t".into()),
            participants: Vec::new(),
            participant_name: None,
            last_sender_id: None,
            last_message_id: None,
            unread_count: 0,
        }
    }

    fn message(conversation: ConversationId, from: UserId, id: &str) -> MessagePayload {
        MessagePayload {
            conversation_id: conversation,
            sender_id: from,
            message_id: MessageId::parse(id).unwrap(),
            content: crate::protocol::Content::parse(&format!("text {id}")).unwrap(),
            timestamp: 42,
        }
    }

    #[test]
    fn a_message_moves_its_conversation_to_the_top_with_a_badge() {
        let (a, b, c) = (
            ConversationId::new_v7(),
            ConversationId::new_v7(),
            ConversationId::new_v7(),
        );
        let (me, friend) = (UserId::new_v7(), UserId::new_v7());
        let mut inbox = InboxList::new(vec![entry(a), entry(b), entry(c)]);
        assert!(inbox.record(&message(c, friend, "m1"), me, Some(a)));
        assert_eq!(inbox.entries()[0].conversation_id, c);
        assert_eq!(inbox.entries()[0].last_message.as_deref(), Some("text m1"));
        assert_eq!(inbox.entries()[0].unread_count, 1);
        assert!(
            inbox.record(&message(c, friend, "m1"), me, Some(a)),
            "a repeat"
        );
        assert_eq!(inbox.entries()[0].unread_count, 1, "does not count twice");
        assert!(inbox.record(&message(a, friend, "m2"), me, Some(a)));
        assert_eq!(
            inbox.entries()[0].unread_count,
            0,
            "the open one stays read"
        );
        assert!(inbox.mark_read(c));
        assert!(inbox.entries().iter().all(|e| e.unread_count == 0));
    }

    #[test]
    fn my_own_message_reads_the_conversation() {
        let conv = ConversationId::new_v7();
        let (me, friend) = (UserId::new_v7(), UserId::new_v7());
        let mut inbox = InboxList::new(vec![entry(conv)]);
        inbox.record(&message(conv, friend, "m1"), me, None);
        inbox.record(&message(conv, me, "m2"), me, None);
        assert_eq!(inbox.entries()[0].unread_count, 0);
    }

    #[test]
    fn an_unknown_conversation_asks_for_a_refetch() {
        let mut inbox = InboxList::default();
        assert!(!inbox.record(
            &message(ConversationId::new_v7(), UserId::new_v7(), "m"),
            UserId::new_v7(),
            None
        ));
    }
}
