//! What the server tells the chat: a frame on the live connection, or a
//! page it was asked for (the inbox, a conversation's history, the catch-up
//! after a reconnect); each changes the chat and says what the page must
//! do next.

use super::{Chat, Effect};
use crate::protocol::{
    ApiError, ChangesPage, ConversationId, ErrorCode, HistoryPage, Inbox, MemberPayload,
    MessagePayload, ServerEvent,
};

/// Messages kept at most while the inbox is fetched again (past it, the
/// rest are only shown live).
const MAX_HEARD_WHILE_REFRESHING: usize = 500;

impl Chat {
    /// A frame from the server. `random` is uniform in [0, 1) (the jitter of
    /// a retry).
    pub(crate) fn apply(
        &mut self,
        event: ServerEvent,
        visible: bool,
        now_ms: i64,
        random: f64,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        // What is on screen first: the open conversation's page shows its
        // part (the message, the ticks), then the rest follows from it.
        if let Some(page) = self.page {
            (page.shown)(self, &event);
        }
        let (me, open) = (self.my_id(), self.open_id());
        let read_marker = matches!(event, ServerEvent::Read(_));
        match event {
            ServerEvent::Receive(message) => {
                self.typing
                    .stopped(message.conversation_id, message.sender_id);
                let here = open == Some(message.conversation_id);
                if message.sender_id == me && self.outbox.remove(&message.message_id).is_some() {
                    // Stored (sent from another tab, or resent from a
                    // shared outbox there): nothing left to send from here.
                    effects.push(Effect::Forget(message.message_id.clone()));
                }
                // Asked before the inbox lists it: a repeat is no news.
                let notice = self.notice(&message, visible);
                let name = self.known_name(message.sender_id).map(str::to_owned);
                if !self.inbox.record(&message, name.as_deref(), me, open) {
                    effects.push(self.refresh_inbox());
                }
                if let Some(heard) = &mut self.heard_while_refreshing
                    && heard.len() < MAX_HEARD_WHILE_REFRESHING
                {
                    heard.push(message.clone());
                }
                effects.extend(notice.map(Effect::Notify));
                if here && visible {
                    self.mark_open_read(&mut effects);
                } else if message.sender_id != me {
                    effects.extend(self.received(
                        message.conversation_id,
                        message.message_id,
                        now_ms,
                    ));
                }
            }
            ServerEvent::Ack(ack) => {
                if self.outbox.remove(&ack.message_id).is_some() {
                    effects.push(Effect::Forget(ack.message_id.clone()));
                }
            }
            ServerEvent::Read(marker) | ServerEvent::Delivered(marker) if marker.user_id == me => {
                // This tab's or another's read: what is left unread after
                // it (all of it read, as far as the server said).
                if read_marker {
                    let left = marker.unread_count.unwrap_or(0);
                    if left == 0 || self.reading_newest(marker.conversation_id) {
                        self.inbox.mark_read(marker.conversation_id);
                    } else {
                        self.inbox.set_unread(marker.conversation_id, left);
                    }
                }
            }
            // Someone else's: the ticks of the open conversation (shown).
            ServerEvent::Read(_) | ServerEvent::Delivered(_) => {}
            ServerEvent::Presence(person) => self.people.changed(person),
            ServerEvent::PresenceState(list) => self.people.listed(list),
            ServerEvent::Left(left) => self.left(left, &mut effects),
            ServerEvent::Muted(mute) => self.muted(mute.conversation_id, mute.muted),
            ServerEvent::Typing(notice) => {
                if notice.user_id != me {
                    self.typing
                        .heard(notice.conversation_id, notice.user_id, now_ms);
                }
            }
            ServerEvent::TypingStop(notice) => {
                self.typing.stopped(notice.conversation_id, notice.user_id);
            }
            // Read by the open conversation's page (`read_action`).
            ServerEvent::ActionAck(_)
            | ServerEvent::Edited(_)
            | ServerEvent::Deleted(_)
            | ServerEvent::Reacted(_)
            | ServerEvent::Unreacted(_) => {}
            ServerEvent::Error(error) => self.refused(error, now_ms, random, &mut effects),
        }
        effects
    }

    /// Someone left a group: if it was me (in this tab or another), it
    /// goes from the inbox and, if open, from the screen; else they go
    /// from its members (their messages keep their name).
    fn left(&mut self, left: MemberPayload, effects: &mut Vec<Effect>) {
        let conversation = left.conversation_id;
        if left.user_id == self.my_id() {
            self.inbox.remove(conversation);
            if self.open_id() == Some(conversation) {
                effects.push(Effect::ShowInbox);
            }
            return;
        }
        self.inbox.member_left(conversation, left.user_id);
        self.receipts.forget(left.user_id);
        if let Some(open) = self
            .open
            .as_mut()
            .filter(|c| c.conversation_id == conversation)
            && let Some(at) = open
                .participants
                .iter()
                .position(|p| p.user_id == left.user_id)
        {
            let gone = open.participants.remove(at);
            open.former_participants.push(gone);
        }
    }

    /// The list was scrolled to its end: the next page, if there is one
    /// and it is not on its way already.
    pub(crate) fn want_more_inbox(&mut self) -> Vec<Effect> {
        self.inbox
            .start_loading()
            .map(|cursor| Effect::FetchInbox(Some(cursor)))
            .into_iter()
            .collect()
    }

    /// What an [`Effect::FetchInbox`] brought: the first page (`more`
    /// false) or the next one; `None` if it could not be fetched.
    pub(crate) fn inbox_arrived(
        &mut self,
        more: bool,
        page: Option<Inbox>,
        now_ms: i64,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        match (more, page) {
            (true, Some(page)) => self.inbox.append(page),
            (true, None) => self.inbox.load_failed(),
            (false, first) => return self.caught_up(first, now_ms),
        }
        self.follow_people(&mut effects);
        effects
    }

    fn refused(&mut self, error: ApiError, now_ms: i64, random: f64, effects: &mut Vec<Effect>) {
        if let Some(action) = &error.action_id {
            self.action_refused(action, error.code, error.message);
            return;
        }
        let transient = is_transient(&error);
        let Some(id) = error.message_id else {
            return;
        };
        // A passing condition: the message stays, and goes again on its own
        // schedule.
        // (The open conversation shows it as waiting, or failed.)
        if transient {
            self.outbox.refused_for_now(&id, now_ms, random);
        } else if self.outbox.remove(&id).is_some() {
            effects.push(Effect::Forget(id.clone()));
        }
    }

    /// An older page of the open conversation (scrolling up).
    pub(crate) fn older_page(&mut self, page: HistoryPage) {
        if let Some(t) = &mut self.timeline {
            t.prepend_older(page);
        }
    }

    /// What changed in the open conversation while this page was not
    /// listening (`changes?since=`).
    pub(crate) fn changes_arrived(&mut self, changes: ChangesPage) {
        if let Some(t) = &mut self.timeline
            && t.conversation_id == changes.conversation_id
        {
            t.changes(changes.messages, changes.last_change);
        }
    }

    /// Asks for the inbox's first page again (on connecting, or when a
    /// conversation it does not list came alive). The page may have been
    /// read before a message heard meanwhile was stored: what is heard
    /// until it comes is kept, to go on top of it.
    pub(crate) fn refresh_inbox(&mut self) -> Effect {
        self.heard_while_refreshing.get_or_insert_with(Vec::new);
        Effect::FetchInbox(None)
    }

    /// The inbox's first page again (see [`Self::refresh_inbox`]).
    pub(crate) fn caught_up(&mut self, first: Option<Inbox>, now_ms: i64) -> Vec<Effect> {
        let mut effects = Vec::new();
        let heard = self.heard_while_refreshing.take().unwrap_or_default();
        if let Some(first) = first {
            self.inbox.refresh(first);
            self.replay(heard);
            if let Some(open) = self.open_id() {
                self.inbox.mark_read(open);
            }
            self.report_inbox(now_ms, &mut effects);
            self.follow_people(&mut effects);
        }
        self.mark_open_read(&mut effects);
        effects
    }

    /// Messages heard while the inbox's first page was on its way, on top
    /// of it: in each conversation, those after the last one the page
    /// already has (all of them if it has none of them).
    fn replay(&mut self, heard: Vec<MessagePayload>) {
        let (me, open) = (self.my_id(), self.open_id());
        // Where each conversation's last message on the page was heard.
        let mut had: Vec<(ConversationId, usize)> = Vec::new();
        for (i, m) in heard.iter().enumerate() {
            if let Some(e) = self.inbox.get(m.conversation_id)
                && e.last_message_id.as_ref() == Some(&m.message_id)
            {
                had.push((m.conversation_id, i));
            }
        }
        for (i, m) in heard.iter().enumerate() {
            if !had.iter().any(|&(c, k)| c == m.conversation_id && i <= k) {
                let name = self.known_name(m.sender_id).map(str::to_owned);
                self.inbox.record(m, name.as_deref(), me, open);
            }
        }
    }

    /// The open conversation's newest page after a reconnect, merged into
    /// what is shown (apart from [`Self::caught_up`], so that the merge is
    /// loaded with the conversation's page only).
    pub(crate) fn conversation_caught_up(&mut self, page: HistoryPage) -> Vec<Effect> {
        if let Some(t) = &mut self.timeline {
            t.catch_up(page);
        }
        let mut effects = Vec::new();
        self.mark_open_read(&mut effects);
        effects
    }
}

/// A passing condition: the message stays, and goes again on its own
/// schedule.
pub(super) fn is_transient(error: &ApiError) -> bool {
    matches!(error.code, ErrorCode::Unavailable | ErrorCode::RateLimited)
}
