//! What this page tells the others, and what it shows of what they tell
//! it: who is typing where, how far this page has received and read (the
//! others' ticks), and whose presence it follows.

use super::{Chat, Effect, typing};
use crate::protocol::{ClientEvent, ConversationId, MessageId, ReadPayload, UserId};

impl Chat {
    /// "Bob is typing…" for `conversation`, or `None`. Names come from the
    /// open conversation's members, or the few its inbox row carries.
    pub(crate) fn typing_label(&self, conversation: ConversationId) -> Option<String> {
        let row = self.inbox.get(conversation);
        let names: Vec<&str> = self
            .typing
            .who(conversation)
            .map(|user| {
                let open = (self.open_id() == Some(conversation))
                    .then(|| self.known_name(user))
                    .flatten();
                open.or_else(|| {
                    row?.participants
                        .iter()
                        .find(|p| p.user_id == user)
                        .map(|p| p.username.as_str())
                })
                .unwrap_or("Someone")
            })
            .collect();
        typing::label(&names)
    }

    /// I typed in (or cleared) the box of `conversation`: tell the others,
    /// now and then.
    pub(crate) fn typed(
        &mut self,
        conversation: ConversationId,
        empty: bool,
        now_ms: i64,
    ) -> Vec<Effect> {
        self.say_if_connected(|chat| chat.typing.typed(conversation, empty, now_ms))
    }

    /// A frame `say` makes, sent if the connection is up; while it is down,
    /// `say` is not asked (what it would say is not recorded as said).
    pub(super) fn say_if_connected(
        &mut self,
        say: impl FnOnce(&mut Self) -> Option<ClientEvent>,
    ) -> Vec<Effect> {
        if !self.connected() {
            return Vec::new();
        }
        say(self).map(Effect::Send).into_iter().collect()
    }

    /// Follows the presence of the people shown: the other person of each
    /// direct chat in the inbox, and the open conversation's members.
    pub(super) fn follow_people(&mut self, effects: &mut Vec<Effect>) {
        if !self.connected() {
            return;
        }
        let me = self.my_id();
        let open = self.open.iter().flat_map(|c| &c.participants);
        let wanted: Vec<UserId> = self
            .inbox
            .entries()
            .iter()
            .filter_map(|row| row.participant)
            .chain(open.map(|p| p.user_id))
            .filter(|u| *u != me)
            .collect();
        effects.extend(self.people.follow(wanted).map(Effect::Send));
    }

    /// A message from someone else reached this page: say so (now, or
    /// within a second), unless reading it says more.
    pub(super) fn received(
        &mut self,
        conversation: ConversationId,
        id: MessageId,
        now_ms: i64,
    ) -> Vec<Effect> {
        self.say_if_connected(|chat| chat.reports.received(conversation, id, now_ms))
    }

    /// Says how far this page has received in each inbox row with unread
    /// messages (it has them now, as the inbox's newest).
    pub(super) fn report_inbox(&mut self, now_ms: i64, effects: &mut Vec<Effect>) {
        let me = self.my_id();
        let unread: Vec<(ConversationId, MessageId)> = self
            .inbox
            .entries()
            .iter()
            .filter(|row| row.unread_count > 0 && row.last_sender_id != Some(me))
            .filter_map(|row| Some((row.conversation_id, row.last_message_id.clone()?)))
            .collect();
        for (conversation, id) in unread {
            effects.extend(self.received(conversation, id, now_ms));
        }
    }

    /// The page is seen (opened, shown again): the open conversation's
    /// badge clears and the server (so my other tabs) hears how far I read.
    pub(crate) fn seen(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.mark_open_read(&mut effects);
        effects
    }

    /// Whether `conversation` is open at its newest messages (what arrives
    /// there is read as it comes).
    pub(super) fn reading_newest(&self, conversation: ConversationId) -> bool {
        self.open_id() == Some(conversation)
            && self
                .timeline
                .as_ref()
                .is_some_and(|t| t.newer_cursor().is_none())
    }

    pub(super) fn mark_open_read(&mut self, effects: &mut Vec<Effect>) {
        let Some(conversation) = self.open_id() else {
            return;
        };
        // Opened far back, what is below is not read yet: the server's
        // answer says how much is left.
        if self.reading_newest(conversation) {
            self.inbox.mark_read(conversation);
        }
        let Some(newest) = self
            .timeline
            .as_ref()
            .and_then(|t| t.newest_stored())
            .map(|m| m.message_id.clone())
        else {
            return;
        };
        if !self.connected() || self.read_sent.get(&conversation) == Some(&newest) {
            return;
        }
        self.read_sent.insert(conversation, newest.clone());
        self.reports.read(conversation);
        effects.push(Effect::Send(ClientEvent::Read(ReadPayload {
            conversation_id: conversation,
            message_id: newest,
        })));
    }
}
