//! The signed-in page's chat as plain data: who I am, the inbox, the open
//! conversation and its timeline, the outbox and the connection, changed
//! only by the methods here, each of which says what the page must do about
//! it as a list of [`Effect`]s (frames to send, outbox entries to keep or
//! forget, an inbox to fetch again). No browser API, no signal, no clock
//! of its own: the page passes the time and the randomness in, and carries
//! the effects out (`crate::store`), so all of it is unit-tested natively.

use super::inbox::InboxList;
use super::outbox::Outbox;
use super::presence::People;
use super::receipts::{DeliveryReports, Receipts};
use super::timeline::{Status, Timeline};
use super::typing::{self, Typing};
use crate::protocol::{
    ClientEvent, Content, Conversation, ConversationId, HistoryPage, Inbox, MessageId,
    MessagePayload, UserId, UserSummary,
};
pub(crate) use actions::Draft;
use page::OpenPage;
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
    /// The same, written already.
    SendText(String),
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
    /// A message worth a browser notification, if the person wants them.
    Notify(super::unread::Notice),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Chat {
    me: UserSummary,
    pub(crate) inbox: InboxList,
    /// The open conversation's people.
    pub(crate) open: Option<Conversation>,
    /// Where the open conversation's unread messages began when it was
    /// opened: the "New messages" line stays above it until it closes.
    pub(crate) unread_from: Option<MessageId>,
    /// The open conversation's messages.
    pub(crate) timeline: Option<Timeline>,
    pub(crate) outbox: Outbox,
    /// My messages written while their files were still uploading: they
    /// go to the outbox when the uploads are done.
    pub(crate) held: Vec<MessagePayload>,
    pub(crate) connection: Connection,
    /// The newest message each conversation was marked read up to on this
    /// connection, so a read marker is sent once.
    read_sent: HashMap<ConversationId, MessageId>,
    /// Who is typing where, and what I said of my own typing.
    pub(crate) typing: Typing,
    /// Who of the people shown is online.
    pub(crate) people: People,
    /// How far the others in the open conversation have received and read.
    pub(crate) receipts: Receipts,
    /// When this page says how far it has received.
    reports: DeliveryReports,
    /// A reply or an edit being written.
    pub(crate) draft: Option<Draft>,
    /// Edits, deletions and reactions sent and not answered yet, by
    /// `action_id`, each as its frame.
    actions: Vec<(MessageId, String)>,
    /// Why the last of them was refused.
    pub(crate) action_error: Option<String>,
    /// While a conversation is open: its page's part of each change.
    page: Option<OpenPage>,
    /// How many times a conversation was opened: a page that goes away
    /// closes only what it opened (not the same conversation opened again
    /// by the page that replaced it).
    opened: u64,
    /// While the inbox's first page is being fetched again: the messages
    /// heard meanwhile, to go on top of it.
    heard_while_refreshing: Option<Vec<MessagePayload>>,
}

impl Chat {
    pub(crate) fn new(me: UserSummary, inbox: Inbox) -> Self {
        Self {
            me,
            inbox: InboxList::new(inbox),
            open: None,
            unread_from: None,
            timeline: None,
            outbox: Outbox::default(),
            held: Vec::new(),
            connection: Connection::Connecting,
            read_sent: HashMap::new(),
            typing: Typing::default(),
            people: People::default(),
            receipts: Receipts::default(),
            reports: DeliveryReports::default(),
            draft: None,
            actions: Vec::new(),
            action_error: None,
            page: None,
            opened: 0,
            heard_while_refreshing: None,
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

    /// Which opening of a conversation is the present one.
    pub(crate) fn opened(&self) -> u64 {
        self.opened
    }

    /// Reads the news of an action, if a conversation is open to show it.
    pub(crate) fn action_reader(&self) -> Option<fn(&mut Chat, &str) -> Vec<Effect>> {
        self.page.map(|page| page.action)
    }

    pub(crate) fn connected(&self) -> bool {
        self.connection == Connection::Connected
    }

    /// Shows `conversation` with its newest page, plus my messages to it
    /// that are still on their way, and marks it read (opening it is seeing
    /// it; the server renders it so too).
    #[cfg(test)]
    pub(crate) fn open_conversation(
        &mut self,
        conversation: Conversation,
        page: HistoryPage,
    ) -> Vec<Effect> {
        self.open_conversation_at(conversation, page, None, false)
    }

    /// The same, opened at `page` away from the newest when `newer` is the
    /// cursor of the pages after it: where I left off, or around a message
    /// (`jumped`: `/c/:id?m=`, which the view goes to rather than to the
    /// "New messages" line). What it shows is read; the rest stays unread.
    pub(crate) fn open_conversation_at(
        &mut self,
        conversation: Conversation,
        page: HistoryPage,
        newer: Option<MessageId>,
        jumped: bool,
    ) -> Vec<Effect> {
        let id = conversation.conversation_id;
        let mut timeline = Timeline::from_page(page);
        timeline.set_newer(newer);
        for pending in self.outbox.in_conversation(id) {
            timeline.push_pending(pending.clone());
        }
        for held in self.held.iter().filter(|m| m.conversation_id == id) {
            timeline.push_unsent(held.clone(), Status::Uploading);
        }
        self.receipts = Receipts::from_page(&conversation.markers, self.my_id());
        self.unread_from =
            super::unread::first_unread(&conversation.markers, self.my_id(), &timeline)
                .filter(|_| !jumped);
        self.page = Some(OpenPage::new());
        self.opened += 1;
        self.open = Some(conversation);
        self.timeline = Some(timeline);
        let mut effects = Vec::new();
        self.mark_open_read(&mut effects);
        self.follow_people(&mut effects);
        effects
    }

    /// Leaves `conversation` if it is the one open.
    /// Leaves `conversation` if it is the one open, as opened the
    /// `opened`-th time ([`Self::opened`]).
    pub(crate) fn close_conversation(&mut self, conversation: ConversationId, opened: u64) {
        if self.opened != opened {
            return;
        }
        if self.open_id() == Some(conversation) {
            self.open = None;
            self.unread_from = None;
            self.timeline = None;
            self.receipts = Receipts::default();
            self.draft = None;
            self.actions.clear();
            self.action_error = None;
            self.page = None;
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
        let message = self.compose(conversation, content, message_id, now_ms);
        self.post(message, now_ms)
    }

    /// A new message of mine, answering the message being replied to (if
    /// any), without files yet.
    fn compose(
        &mut self,
        conversation: ConversationId,
        content: Content,
        message_id: MessageId,
        now_ms: i64,
    ) -> MessagePayload {
        let reply = self.take_reply();
        MessagePayload {
            conversation_id: conversation,
            sender_id: self.my_id(),
            message_id,
            content,
            timestamp: now_ms,
            reply_to: reply.as_ref().map(|q| q.message_id.clone()),
            reply,
            change: None,
            attachments: Vec::new(),
            mentions: Vec::new(),
        }
    }

    /// My message, whole: into the outbox (and where a reload finds it),
    /// on screen as pending, the inbox's preview, and out if connected.
    fn post(&mut self, message: MessagePayload, now_ms: i64) -> Vec<Effect> {
        let conversation = message.conversation_id;
        let mut effects = vec![Effect::Keep(message.clone())];
        self.outbox.push(message.clone(), now_ms);
        if let Some(t) = &mut self.timeline
            && !t.uploaded(&message.message_id, &message.attachments)
        {
            t.push_pending(message.clone());
        }
        let (me, open) = (self.my_id(), self.open_id());
        self.inbox
            .record(&message, Some(&self.me.username), me, open);
        self.send_due(now_ms, &mut effects);
        effects.extend(self.say_if_connected(|chat| chat.typing.done(conversation)));
        effects
    }

    /// I try a failed message again: same id, so it cannot double.
    pub(crate) fn retry(&mut self, id: &MessageId, now_ms: i64) -> Vec<Effect> {
        let Some(message) = self.timeline.as_mut().and_then(|t| t.retry(id)).cloned() else {
            return Vec::new();
        };
        // A message of mine not stored yet always has its text.
        let Some(content) = message.content else {
            return Vec::new();
        };
        let Some(conversation) = self.open_id() else {
            return Vec::new();
        };
        let message = MessagePayload {
            conversation_id: conversation,
            sender_id: message.sender_id,
            message_id: message.message_id,
            content,
            timestamp: message.timestamp,
            reply_to: message.reply.as_ref().map(|q| q.message_id.clone()),
            reply: message.reply,
            change: None,
            attachments: message.attachments,
            mentions: Vec::new(),
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
        self.resend_actions(&mut effects);
        if visible {
            self.mark_open_read(&mut effects);
        }
        self.follow_people(&mut effects);
        self.report_inbox(now_ms, &mut effects);
        effects
    }

    /// The connection is down (or not there yet).
    pub(crate) fn on_disconnected(&mut self, state: Connection) {
        self.connection = state;
        // What was said on the old connection may never be taken back.
        self.typing.forget();
        self.people.disconnected();
    }

    /// Time passed: whatever in the outbox fell due goes, and whoever
    /// stopped typing long enough ago stops showing.
    pub(crate) fn tick(&mut self, now_ms: i64) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.send_due(now_ms, &mut effects);
        self.typing.expire(now_ms);
        if self.connected() {
            effects.extend(self.reports.due(now_ms).into_iter().map(Effect::Send));
        }
        effects
    }

    /// When [`Self::tick`] next has something to do.
    pub(crate) fn next_due_ms(&self) -> Option<i64> {
        [
            self.outbox.next_due_ms(),
            self.typing.next_expiry_ms(),
            self.reports.next_due_ms(),
        ]
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
}

// What the server says (frames, fetched pages) and what the page does
// with it, in a file of its own.
#[path = "chat_incoming.rs"]
mod incoming;

// Messages with files: held until their uploads are done.
#[path = "chat_uploads.rs"]
mod uploads;

// Replies, edits, deletions and reactions.
#[path = "chat_actions.rs"]
mod actions;

// What this page tells the others: typing, how far it received and read,
// whom it follows.
#[path = "chat_signals.rs"]
mod signals;

// The open conversation's part of each change.
#[path = "chat_page.rs"]
mod page;

#[cfg(test)]
#[path = "chat_tests.rs"]
mod tests;
