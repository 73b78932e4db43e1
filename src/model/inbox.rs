//! The inbox list as the person sees it: most recent activity first, with a
//! preview and an unread badge per conversation, a page at a time.

use crate::protocol::{
    Content, ConversationId, Inbox, InboxEntry, MessageId, MessagePayload, UserId,
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InboxList {
    entries: Vec<InboxEntry>,
    /// Where the next page starts; `None` once everything is listed.
    next_cursor: Option<String>,
    /// The next page has been asked for and has not come yet.
    loading: bool,
}

impl InboxList {
    pub(crate) fn new(first: Inbox) -> Self {
        Self {
            entries: first.chats,
            next_cursor: first.next_cursor,
            loading: false,
        }
    }

    pub(crate) fn entries(&self) -> &[InboxEntry] {
        &self.entries
    }

    /// The cursor of the page after the listed ones, if there is more.
    pub(crate) fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    /// Whether asking for the next page would do anything: there is one,
    /// and it is not on its way already.
    pub(crate) fn can_load_more(&self) -> bool {
        self.next_cursor.is_some() && !self.loading
    }

    /// The next page is wanted (the list was scrolled to its end): the
    /// cursor to fetch it with, once; `None` if there is nothing more or it
    /// is on its way.
    pub(crate) fn start_loading(&mut self) -> Option<String> {
        if !self.can_load_more() {
            return None;
        }
        self.loading = true;
        self.next_cursor.clone()
    }

    /// The next page could not be fetched: it may be asked for again.
    pub(crate) fn load_failed(&mut self) {
        self.loading = false;
    }

    /// The page after the listed ones (scrolling down): its rows go at the
    /// end, but for those already listed (they moved up since).
    pub(crate) fn append(&mut self, page: Inbox) {
        self.loading = false;
        for entry in page.chats {
            if self.get(entry.conversation_id).is_none() {
                self.entries.push(entry);
            }
        }
        self.next_cursor = page.next_cursor;
    }

    /// A fresh first page (after a reconnect): it replaces the rows it
    /// covers; rows of later pages already listed stay below it, so the
    /// list does not shrink under the reader.
    pub(crate) fn refresh(&mut self, first: Inbox) {
        let Some(oldest) = first.chats.last().map(|e| e.timestamp) else {
            // Nothing at all (everything left): the list is empty.
            *self = Self::new(first);
            return;
        };
        if first.next_cursor.is_none() {
            *self = Self::new(first);
            return;
        }
        let later: Vec<InboxEntry> = self
            .entries
            .drain(..)
            .filter(|e| {
                e.timestamp < oldest
                    && !first
                        .chats
                        .iter()
                        .any(|f| f.conversation_id == e.conversation_id)
            })
            .collect();
        if later.is_empty() {
            self.next_cursor = first.next_cursor;
        }
        self.entries = first.chats;
        self.entries.extend(later);
    }

    /// I left `conversation`: it is no longer mine to list.
    pub(crate) fn remove(&mut self, conversation: ConversationId) {
        self.entries.retain(|e| e.conversation_id != conversation);
    }

    /// Someone else left `conversation`: one member fewer, and their name
    /// no longer stands for the group.
    pub(crate) fn member_left(&mut self, conversation: ConversationId, user: UserId) {
        if let Some(entry) = self.get_mut(conversation) {
            entry.participants.retain(|p| p.user_id != user);
            entry.member_count = (entry.member_count - 1).max(1);
        }
    }

    pub(crate) fn get(&self, conversation: ConversationId) -> Option<&InboxEntry> {
        self.entries
            .iter()
            .find(|e| e.conversation_id == conversation)
    }

    fn get_mut(&mut self, conversation: ConversationId) -> Option<&mut InboxEntry> {
        self.entries
            .iter_mut()
            .find(|e| e.conversation_id == conversation)
    }

    /// A message of `conversation` (received, or sent by me): it becomes the
    /// preview and the row moves to the top. It counts as unread when someone
    /// else wrote it and the conversation is not the one open. False when the
    /// conversation is not listed (someone started it with me: refetch).
    /// `sender_name` is the sender's name where the page knows it (the
    /// open conversation's members); the row's own names are tried too.
    pub(crate) fn record(
        &mut self,
        message: &MessagePayload,
        sender_name: Option<&str>,
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
            entry.last_attachment = message.attachments.first().cloned();
            entry.last_message_id = Some(message.message_id.clone());
            entry.last_sender_name = sender_name.map(str::to_owned).or_else(|| {
                entry
                    .participants
                    .iter()
                    .find(|p| p.user_id == message.sender_id)
                    .map(|p| p.username.clone())
            });
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

    /// A message was edited (`Some` text) or deleted: the preview follows
    /// if it is the conversation's newest.
    pub(crate) fn changed(
        &mut self,
        conversation: ConversationId,
        id: &MessageId,
        content: Option<Content>,
    ) {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.conversation_id == conversation && e.last_message_id.as_ref() == Some(id))
        {
            if content.is_none() {
                // Deleted: its files went with it.
                entry.last_attachment = None;
            }
            entry.last_message = content;
        }
    }

    /// I muted (`muted`) or unmuted `conversation`, here or in another tab.
    pub(crate) fn set_muted(&mut self, conversation: ConversationId, muted: bool) {
        if let Some(entry) = self.get_mut(conversation) {
            entry.muted = muted;
        }
    }

    /// The badge says `count` (what the server counts after a read marker
    /// that did not reach the newest message).
    pub(crate) fn set_unread(&mut self, conversation: ConversationId, count: i64) {
        if let Some(entry) = self.get_mut(conversation) {
            entry.unread_count = count;
        }
    }

    /// The badge clears (the conversation was opened or read elsewhere).
    pub(crate) fn mark_read(&mut self, conversation: ConversationId) -> bool {
        match self.get_mut(conversation) {
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
            member_count: 3,
            participant_name: None,
            last_sender_id: None,
            last_sender_name: None,
            last_message_id: None,
            unread_count: 0,
            last_attachment: None,
            muted: false,
        }
    }

    fn list(chats: Vec<InboxEntry>, next_cursor: Option<&str>) -> InboxList {
        InboxList::new(Inbox {
            chats,
            next_cursor: next_cursor.map(str::to_owned),
        })
    }

    fn at(conversation: ConversationId, timestamp: i64) -> InboxEntry {
        InboxEntry {
            timestamp,
            ..entry(conversation)
        }
    }

    fn ids(inbox: &InboxList) -> Vec<ConversationId> {
        inbox.entries().iter().map(|e| e.conversation_id).collect()
    }

    fn message(conversation: ConversationId, from: UserId, id: &str) -> MessagePayload {
        MessagePayload {
            conversation_id: conversation,
            sender_id: from,
            message_id: MessageId::parse(id).unwrap(),
            content: crate::protocol::Content::parse(&format!("text {id}")).unwrap(),
            timestamp: 42,
            reply_to: None,
            reply: None,
            change: None,
            attachments: Vec::new(),
            mentions: Vec::new(),
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
        let mut inbox = list(vec![entry(a), entry(b), entry(c)], None);
        assert!(inbox.record(&message(c, friend, "m1"), None, me, Some(a)));
        assert_eq!(inbox.entries()[0].conversation_id, c);
        assert_eq!(inbox.entries()[0].last_message.as_deref(), Some("text m1"));
        assert_eq!(inbox.entries()[0].unread_count, 1);
        assert!(
            inbox.record(&message(c, friend, "m1"), None, me, Some(a)),
            "a repeat"
        );
        assert_eq!(inbox.entries()[0].unread_count, 1, "does not count twice");
        assert!(inbox.record(&message(a, friend, "m2"), None, me, Some(a)));
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
        let mut inbox = list(vec![entry(conv)], None);
        inbox.record(&message(conv, friend, "m1"), None, me, None);
        inbox.record(&message(conv, me, "m2"), None, me, None);
        assert_eq!(inbox.entries()[0].unread_count, 0);
    }

    #[test]
    fn an_unknown_conversation_asks_for_a_refetch() {
        let mut inbox = InboxList::default();
        assert!(!inbox.record(
            &message(ConversationId::new_v7(), UserId::new_v7(), "m"),
            None,
            UserId::new_v7(),
            None
        ));
    }

    #[test]
    fn a_later_page_goes_below_without_repeating_a_row_that_moved_up() {
        let [a, b, c, d] = [(); 4].map(|()| ConversationId::new_v7());
        let mut inbox = list(vec![at(a, 40), at(b, 30)], Some("30_b"));
        assert_eq!(inbox.next_cursor(), Some("30_b"));
        // c was active after page one was read: page two holds it too.
        inbox.append(Inbox {
            chats: vec![at(c, 20), at(d, 10)],
            next_cursor: None,
        });
        assert_eq!(ids(&inbox), vec![a, b, c, d]);
        assert_eq!(inbox.next_cursor(), None, "everything is listed");
        inbox.append(Inbox {
            chats: vec![at(a, 40)],
            next_cursor: None,
        });
        assert_eq!(ids(&inbox), vec![a, b, c, d], "a is listed once");
    }

    #[test]
    fn the_next_page_is_asked_for_once_and_again_after_a_failure() {
        let a = ConversationId::new_v7();
        let mut inbox = list(vec![at(a, 40)], Some("40_a"));
        assert_eq!(inbox.start_loading().as_deref(), Some("40_a"));
        assert_eq!(inbox.start_loading(), None, "already on its way");
        inbox.load_failed();
        assert_eq!(
            inbox.start_loading().as_deref(),
            Some("40_a"),
            "asked again"
        );
        inbox.append(Inbox {
            chats: Vec::new(),
            next_cursor: None,
        });
        assert!(!inbox.can_load_more());
        assert_eq!(inbox.start_loading(), None, "nothing more");
    }

    #[test]
    fn a_fresh_first_page_keeps_the_later_pages_already_listed() {
        let [a, b, c, d, e] = [(); 5].map(|()| ConversationId::new_v7());
        let mut inbox = list(vec![at(a, 50), at(b, 40)], Some("40_b"));
        inbox.append(Inbox {
            chats: vec![at(c, 30), at(d, 20)],
            next_cursor: Some("20_d".into()),
        });
        // While offline: e is new and c got a message; a and b, untouched,
        // now make the start of page two.
        inbox.refresh(Inbox {
            chats: vec![at(c, 60), at(e, 55)],
            next_cursor: Some("55_e".into()),
        });
        assert_eq!(ids(&inbox), vec![c, e, a, b, d], "c listed once, on top");
        assert_eq!(
            inbox.next_cursor(),
            Some("20_d"),
            "scrolling goes on past d"
        );
        inbox.refresh(Inbox {
            chats: vec![at(e, 55)],
            next_cursor: None,
        });
        assert_eq!(
            ids(&inbox),
            vec![e],
            "a complete first page is the whole list"
        );
    }

    #[test]
    fn leaving_drops_the_row_and_another_leaving_drops_a_member() {
        let [a, b] = [(); 2].map(|()| ConversationId::new_v7());
        let (carol, dave) = (UserId::new_v7(), UserId::new_v7());
        let mut group = entry(b);
        group.participants = vec![
            crate::protocol::UserSummary {
                user_id: carol,
                username: "carol".into(),
            },
            crate::protocol::UserSummary {
                user_id: dave,
                username: "dave".into(),
            },
        ];
        let mut inbox = list(vec![entry(a), group], None);
        inbox.remove(a);
        assert_eq!(ids(&inbox), vec![b]);
        inbox.member_left(b, carol);
        let row = &inbox.entries()[0];
        assert_eq!(row.member_count, 2);
        assert_eq!(row.participants.len(), 1);
        assert_eq!(row.participants[0].username, "dave");
    }

    #[test]
    fn a_group_preview_names_the_sender_when_the_page_knows_them() {
        let conv = ConversationId::new_v7();
        let (me, eve) = (UserId::new_v7(), UserId::new_v7());
        let mut inbox = list(vec![entry(conv)], None);
        inbox.record(&message(conv, eve, "m1"), Some("eve"), me, None);
        assert_eq!(inbox.entries()[0].last_sender_name.as_deref(), Some("eve"));
        inbox.record(&message(conv, eve, "m2"), None, me, None);
        assert_eq!(
            inbox.entries()[0].last_sender_name,
            None,
            "not the previous sender's name"
        );
    }
}
