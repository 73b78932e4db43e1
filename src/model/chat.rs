//! The signed-in page's chat as plain data: who I am, the inbox, the open
//! conversation and its timeline, the outbox and the connection, changed
//! only by the methods here, each of which says what the page must do about
//! it as a list of [`Effect`]s (frames to send, outbox entries to keep or
//! forget, an inbox to fetch again). No browser API, no signal, no clock
//! of its own: the page passes the time and the randomness in, and carries
//! the effects out (`crate::store`), so all of it is unit-tested natively.

use super::inbox::InboxList;
use super::outbox::Outbox;
use super::timeline::Timeline;
use super::typing::{self, Typing};
use crate::protocol::{
    ApiError, ClientEvent, Content, Conversation, ConversationId, ErrorCode, HistoryPage, Inbox,
    MemberPayload, MessageId, MessagePayload, ReadPayload, ServerEvent, UserId, UserSummary,
};
use std::collections::HashMap;

/// The live connection as the person sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Connection {
    /// Before the first connection (and on the server).
    Connecting,
    Connected,
    /// Lost; trying again.
    Reconnecting,
    /// The browser says there is no network; waiting for it.
    Offline,
}

impl Connection {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting…",
            Self::Connected => "Connected",
            Self::Reconnecting => "Reconnecting…",
            Self::Offline => "Offline",
        }
    }
}

/// What the page must do after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// A frame for the server, on the live connection.
    Send(ClientEvent),
    /// Keep this unacknowledged message where a reload finds it.
    Keep(MessagePayload),
    /// It was stored, or refused for good: forget it.
    Forget(MessageId),
    /// Fetch a page of the inbox and hand it to [`Chat::inbox_arrived`]:
    /// the first (`None`: the inbox does not list a conversation that just
    /// came alive, or the connection is back), or the one at this cursor
    /// (the list was scrolled to its end).
    FetchInbox(Option<String>),
    /// The open conversation is no longer mine (I left it, in another tab):
    /// show the inbox instead.
    ShowInbox,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Chat {
    me: UserSummary,
    pub(crate) inbox: InboxList,
    /// The open conversation's people.
    pub(crate) open: Option<Conversation>,
    /// The open conversation's messages.
    pub(crate) timeline: Option<Timeline>,
    pub(crate) outbox: Outbox,
    pub(crate) connection: Connection,
    /// The newest message each conversation was marked read up to on this
    /// connection, so a read marker is sent once.
    read_sent: HashMap<ConversationId, MessageId>,
    /// Who is typing where, and what I said of my own typing.
    pub(crate) typing: Typing,
}

impl Chat {
    pub(crate) fn new(me: UserSummary, inbox: Inbox) -> Self {
        Self {
            me,
            inbox: InboxList::new(inbox),
            open: None,
            timeline: None,
            outbox: Outbox::default(),
            connection: Connection::Connecting,
            read_sent: HashMap::new(),
            typing: Typing::default(),
        }
    }

    pub(crate) fn me(&self) -> &UserSummary {
        &self.me
    }

    pub(crate) fn my_id(&self) -> UserId {
        self.me.user_id
    }

    pub(crate) fn open_id(&self) -> Option<ConversationId> {
        self.open.as_ref().map(|c| c.conversation_id)
    }

    /// A display name for a participant of the open conversation (or a
    /// former one: their messages stay).
    pub(crate) fn name_of(&self, user: UserId) -> &str {
        self.known_name(user).unwrap_or("someone")
    }

    fn known_name(&self, user: UserId) -> Option<&str> {
        let open = self.open.as_ref()?;
        open.participants
            .iter()
            .chain(&open.former_participants)
            .find(|p| p.user_id == user)
            .map(|p| p.username.as_str())
    }

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
        if !self.connected() {
            return Vec::new();
        }
        self.typing
            .typed(conversation, empty, now_ms)
            .map(Effect::Send)
            .into_iter()
            .collect()
    }

    pub(crate) fn connected(&self) -> bool {
        self.connection == Connection::Connected
    }

    /// Shows `conversation` with its newest page, plus my messages to it
    /// that are still on their way, and marks it read (opening it is seeing
    /// it; the server renders it so too).
    pub(crate) fn open_conversation(
        &mut self,
        conversation: Conversation,
        page: HistoryPage,
    ) -> Vec<Effect> {
        let id = conversation.conversation_id;
        let mut timeline = Timeline::from_page(page);
        for pending in self.outbox.in_conversation(id) {
            timeline.push_pending(pending.clone());
        }
        self.open = Some(conversation);
        self.timeline = Some(timeline);
        let mut effects = Vec::new();
        self.mark_open_read(&mut effects);
        effects
    }

    /// Leaves `conversation` if it is the one open.
    pub(crate) fn close_conversation(&mut self, conversation: ConversationId) {
        if self.open_id() == Some(conversation) {
            self.open = None;
            self.timeline = None;
        }
    }

    /// I write a message: shown at once as pending, kept until acknowledged,
    /// sent now if connected (else when the connection is back).
    pub(crate) fn write(
        &mut self,
        conversation: ConversationId,
        content: Content,
        message_id: MessageId,
        now_ms: i64,
    ) -> Vec<Effect> {
        let message = MessagePayload {
            conversation_id: conversation,
            sender_id: self.my_id(),
            message_id,
            content,
            timestamp: now_ms,
        };
        let mut effects = vec![Effect::Keep(message.clone())];
        self.outbox.push(message.clone(), now_ms);
        if let Some(t) = &mut self.timeline {
            t.push_pending(message.clone());
        }
        let (me, open) = (self.my_id(), self.open_id());
        self.inbox
            .record(&message, Some(&self.me.username), me, open);
        self.send_due(now_ms, &mut effects);
        if self.connected()
            && let Some(stop) = self.typing.done(conversation)
        {
            effects.push(Effect::Send(stop));
        }
        effects
    }

    /// I try a failed message again: same id, so it cannot double.
    pub(crate) fn retry(&mut self, id: &MessageId, now_ms: i64) -> Vec<Effect> {
        let Some(message) = self.timeline.as_mut().and_then(|t| t.retry(id)).cloned() else {
            return Vec::new();
        };
        let Some(conversation) = self.open_id() else {
            return Vec::new();
        };
        let message = MessagePayload {
            conversation_id: conversation,
            sender_id: message.sender_id,
            message_id: message.message_id,
            content: message.content,
            timestamp: message.timestamp,
        };
        let mut effects = vec![Effect::Keep(message.clone())];
        self.outbox.push(message, now_ms);
        self.send_due(now_ms, &mut effects);
        effects
    }

    /// Messages an earlier page (of this tab or another) wrote and the
    /// server never acknowledged: back in the outbox, due when connected.
    pub(crate) fn restore(&mut self, pending: Vec<MessagePayload>, now_ms: i64) {
        let me = self.my_id();
        for message in pending.into_iter().filter(|m| m.sender_id == me) {
            if let Some(t) = &mut self.timeline {
                t.push_pending(message.clone());
            }
            self.outbox.push(message, now_ms);
        }
    }

    /// The connection is up: everything in the outbox goes again (its
    /// answers may have been lost with the old connection), and read
    /// markers are said again.
    pub(crate) fn on_connected(&mut self, now_ms: i64, visible: bool) -> Vec<Effect> {
        self.connection = Connection::Connected;
        self.read_sent.clear();
        self.outbox.reconnected(now_ms);
        let mut effects = Vec::new();
        self.send_due(now_ms, &mut effects);
        if visible {
            self.mark_open_read(&mut effects);
        }
        effects
    }

    /// The connection is down (or not there yet).
    pub(crate) fn on_disconnected(&mut self, state: Connection) {
        self.connection = state;
        // What was said on the old connection may never be taken back.
        self.typing.forget();
    }

    /// Time passed: whatever in the outbox fell due goes, and whoever
    /// stopped typing long enough ago stops showing.
    pub(crate) fn tick(&mut self, now_ms: i64) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.send_due(now_ms, &mut effects);
        self.typing.expire(now_ms);
        effects
    }

    /// When [`Self::tick`] next has something to do.
    pub(crate) fn next_due_ms(&self) -> Option<i64> {
        [self.outbox.next_due_ms(), self.typing.next_expiry_ms()]
            .into_iter()
            .flatten()
            .min()
    }

    fn send_due(&mut self, now_ms: i64, effects: &mut Vec<Effect>) {
        if !self.connected() {
            return;
        }
        effects.extend(
            self.outbox
                .take_due(now_ms, usize::MAX)
                .into_iter()
                .map(|m| Effect::Send(ClientEvent::Send(m))),
        );
    }

    /// The page is seen (opened, shown again): the open conversation's
    /// badge clears and the server (so my other tabs) hears how far I read.
    pub(crate) fn seen(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.mark_open_read(&mut effects);
        effects
    }

    fn mark_open_read(&mut self, effects: &mut Vec<Effect>) {
        let Some(conversation) = self.open_id() else {
            return;
        };
        self.inbox.mark_read(conversation);
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
        effects.push(Effect::Send(ClientEvent::Read(ReadPayload {
            conversation_id: conversation,
            message_id: newest,
        })));
    }

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
        let (me, open) = (self.my_id(), self.open_id());
        match event {
            ServerEvent::Receive(message) => {
                self.typing
                    .stopped(message.conversation_id, message.sender_id);
                let here = open == Some(message.conversation_id);
                if here && let Some(t) = &mut self.timeline {
                    t.receive(message.clone());
                }
                if message.sender_id == me && self.outbox.remove(&message.message_id).is_some() {
                    // Stored (sent from another tab, or resent from a
                    // shared outbox there): nothing left to send from here.
                    effects.push(Effect::Forget(message.message_id.clone()));
                }
                let name = self.known_name(message.sender_id).map(str::to_owned);
                if !self.inbox.record(&message, name.as_deref(), me, open) {
                    effects.push(Effect::FetchInbox(None));
                }
                if here && visible {
                    self.mark_open_read(&mut effects);
                }
            }
            ServerEvent::Ack(ack) => {
                if self.outbox.remove(&ack.message_id).is_some() {
                    effects.push(Effect::Forget(ack.message_id.clone()));
                }
                if let Some(t) = &mut self.timeline {
                    t.ack(&ack.message_id, ack.timestamp);
                }
            }
            ServerEvent::Read(read) => {
                self.inbox.mark_read(read.conversation_id);
            }
            ServerEvent::Left(left) => self.left(left, &mut effects),
            ServerEvent::Typing(notice) => {
                if notice.user_id != me {
                    self.typing
                        .heard(notice.conversation_id, notice.user_id, now_ms);
                }
            }
            ServerEvent::TypingStop(notice) => {
                self.typing.stopped(notice.conversation_id, notice.user_id);
            }
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
    pub(crate) fn inbox_arrived(&mut self, more: bool, page: Option<Inbox>) -> Vec<Effect> {
        match (more, page) {
            (true, Some(page)) => self.inbox.append(page),
            (true, None) => self.inbox.load_failed(),
            (false, first) => return self.caught_up(first, None),
        }
        Vec::new()
    }

    fn refused(&mut self, error: ApiError, now_ms: i64, random: f64, effects: &mut Vec<Effect>) {
        let Some(id) = error.message_id else {
            return;
        };
        // A passing condition: the message stays, and goes again on its own
        // schedule.
        let transient = matches!(error.code, ErrorCode::Unavailable | ErrorCode::RateLimited);
        if transient {
            self.outbox.refused_for_now(&id, now_ms, random);
        } else if self.outbox.remove(&id).is_some() {
            effects.push(Effect::Forget(id.clone()));
        }
        if let Some(t) = &mut self.timeline {
            if transient {
                t.retrying(&id, error.message);
            } else {
                t.fail(&id, error.message);
            }
        }
    }

    /// An older page of the open conversation (scrolling up).
    pub(crate) fn older_page(&mut self, page: HistoryPage) {
        if let Some(t) = &mut self.timeline {
            t.prepend_older(page);
        }
    }

    /// Fresh data after a reconnect: the inbox, and the open conversation's
    /// newest page merged into what is shown.
    pub(crate) fn caught_up(
        &mut self,
        inbox: Option<Inbox>,
        page: Option<HistoryPage>,
    ) -> Vec<Effect> {
        if let Some(first) = inbox {
            self.inbox.refresh(first);
            if let Some(open) = self.open_id() {
                self.inbox.mark_read(open);
            }
        }
        if let Some(page) = page
            && let Some(t) = &mut self.timeline
        {
            t.catch_up(page);
        }
        let mut effects = Vec::new();
        self.mark_open_read(&mut effects);
        effects
    }
}

#[cfg(test)]
#[path = "chat_tests.rs"]
mod tests;
