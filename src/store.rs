//! The chat as the components see it: the plain-data model
//! ([`crate::model::chat::Chat`]) in a signal, and the effects of each change
//! carried out through a [`Transport`] the page provides in the browser (the
//! WebSocket, the outbox's storage). Made from the server's data on both
//! sides, so the hydrated page matches the server-rendered one; components
//! read it and call its methods, and never see the transport.

// The browser drives most of this; the server's build uses only what
// rendering needs, so dead code here is the browser build's to find
// (`cargo clippy --features hydrate`, in CI).
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use crate::model::chat::{Chat, Connection, Effect};
use crate::model::uploads::Uploads;
use crate::protocol::{
    ChangesPage, Content, Conversation, ConversationId, Emoji, HistoryPage, Inbox, MessageId,
    MessagePayload, News, ServerEvent, UserSummary,
};
use leptos::prelude::*;
use std::sync::Arc;

/// What the page does for the chat in the browser: the I/O the model asks
/// for. (On the server there is none: nothing is sent while rendering.)
pub(crate) trait Transport {
    /// A frame for the server on the live connection.
    fn send(&self, frame: String);
    /// Keeps an unacknowledged message where a reload finds it.
    fn keep(&self, message: &MessagePayload);
    /// Forgets a kept message (stored, or refused for good).
    fn forget(&self, id: &MessageId);
    /// Fetches a page of the inbox (the first, or the one at the cursor)
    /// and hands it to [`ChatStore::inbox_arrived`].
    fn fetch_inbox(&self, cursor: Option<String>);
    /// Shows the inbox in place of the open conversation.
    fn show_inbox(&self);
    /// The browser's clock (milliseconds since the epoch).
    fn now_ms(&self) -> i64;
    /// Uniform in [0, 1): the jitter of retries.
    fn random(&self) -> f64;
    /// True while the page is shown (not a background tab).
    fn visible(&self) -> bool;
    /// Raises a browser notification, if the person turned them on.
    fn notify(&self, notice: crate::model::unread::Notice);
}

#[derive(Clone, Copy)]
pub(crate) struct ChatStore {
    chat: RwSignal<Chat>,
    /// False on the server and until hydration has finished: anything that
    /// depends on the browser (its clock's time zone, the connection state)
    /// renders the server's way until then, so hydration matches.
    pub(crate) hydrated: RwSignal<bool>,
    /// "Now" for rendering relative days: the server's clock until
    /// hydration, then the browser's.
    pub(crate) now_ms: RwSignal<i64>,
    /// Files being uploaded (the composer's chips), apart from the chat:
    /// their progress re-renders only the chips.
    pub(crate) uploads: RwSignal<Uploads>,
    transport: StoredValue<Option<Arc<dyn Transport + Send + Sync>>>,
}

impl ChatStore {
    pub(crate) fn new(me: UserSummary, inbox: Inbox, now_ms: i64) -> Self {
        Self {
            chat: RwSignal::new(Chat::new(me, inbox)),
            hydrated: RwSignal::new(false),
            now_ms: RwSignal::new(now_ms),
            uploads: RwSignal::new(Uploads::default()),
            transport: StoredValue::new(None),
        }
    }

    /// Reads the chat (tracked: the reader runs again when it changes).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Chat) -> T) -> T {
        self.chat.with(f)
    }

    pub(crate) fn with_untracked<T>(&self, f: impl FnOnce(&Chat) -> T) -> T {
        self.chat.with_untracked(f)
    }

    pub(crate) fn me(&self) -> UserSummary {
        self.chat.with_untracked(|c| c.me().clone())
    }

    pub(crate) fn connection(&self) -> Connection {
        self.chat.with(|c| c.connection)
    }

    /// The page's transport: from now on effects are carried out.
    pub(crate) fn attach(&self, transport: Arc<dyn Transport + Send + Sync>) {
        self.transport.set_value(Some(transport));
    }

    /// Changes the chat and carries out what the change asks for.
    fn change(&self, f: impl FnOnce(&mut Chat, &Env<'_>) -> Vec<Effect>) {
        let mut f = Some(f);
        self.change_dyn(&mut |chat, env| f.take().map(|f| f(chat, env)).unwrap_or_default());
    }

    /// [`Self::change`]'s body, not generic: the browser's bundle holds one
    /// copy of the signal's update and of carrying out effects, rather than
    /// one per kind of change.
    fn change_dyn(&self, f: &mut dyn FnMut(&mut Chat, &Env<'_>) -> Vec<Effect>) {
        let transport = self.transport.get_value();
        let env = match &transport {
            Some(t) => Env::Browser(t.as_ref()),
            None => Env::Server(self.now_ms.get_untracked()),
        };
        let mut effects = Vec::new();
        self.chat.update(|chat| effects = f(chat, &env));
        if let Some(transport) = transport {
            carry_out(transport.as_ref(), effects);
        }
    }

    /// Opens `conversation`; which opening this is, for
    /// [`Self::close_conversation`].
    /// Opens `conversation` at `page`: its newest, or (`newer` the cursor
    /// of what follows) where I left off or around a message (`jumped`).
    pub(crate) fn open_conversation(
        &self,
        conversation: Conversation,
        page: HistoryPage,
        newer: Option<MessageId>,
        jumped: bool,
    ) -> u64 {
        self.change(|chat, _| chat.open_conversation_at(conversation, page, newer, jumped));
        self.chat.with_untracked(Chat::opened)
    }

    pub(crate) fn close_conversation(&self, conversation: ConversationId, opened: u64) {
        self.change(|chat, _| {
            chat.close_conversation(conversation, opened);
            Vec::new()
        });
    }

    /// I typed in (or cleared, `empty`) the box of `conversation`.
    /// Most keystrokes have nothing to say: those change nothing, so
    /// nothing re-renders for them.
    pub(crate) fn typed(&self, conversation: ConversationId, empty: bool) {
        let now = self
            .transport
            .with_value(|t| t.as_ref().map(|t| t.now_ms()));
        let Some(now) = now else { return };
        if self
            .chat
            .with_untracked(|c| c.connected() && c.typing.would_say(conversation, empty, now))
        {
            self.change(|chat, _| chat.typed(conversation, empty, now));
        }
    }

    /// "typing…" (a direct chat) or "Bob is typing…" (a group) while
    /// someone types in `conversation`.
    pub(crate) fn typing_label(&self, conversation: ConversationId, group: bool) -> Option<String> {
        let label = self.chat.with(|c| c.typing_label(conversation))?;
        Some(if group { label } else { "typing…".to_owned() })
    }

    pub(crate) fn retry(&self, id: &MessageId) {
        self.change(|chat, clock| chat.retry(id, clock.now_ms()));
    }

    pub(crate) fn restore(&self, pending: Vec<MessagePayload>) {
        self.change(|chat, clock| {
            chat.restore(pending, clock.now_ms());
            Vec::new()
        });
    }

    pub(crate) fn connected(&self) {
        self.change(|chat, clock| chat.on_connected(clock.now_ms(), clock.visible()));
    }

    pub(crate) fn disconnected(&self, state: Connection) {
        self.change(|chat, _| {
            chat.on_disconnected(state);
            Vec::new()
        });
    }

    /// Sends what fell due; changes nothing (so re-renders nothing) while
    /// nothing did.
    pub(crate) fn tick(&self) {
        let now = self
            .transport
            .with_value(|t| t.as_ref().map(|t| t.now_ms()));
        let due = self.chat.with_untracked(Chat::next_due_ms);
        if let (Some(now), Some(due)) = (now, due)
            && due <= now
        {
            self.change(|chat, _| chat.tick(now));
        }
    }

    pub(crate) fn older_page(&self, page: HistoryPage) {
        self.change(|chat, _| {
            chat.older_page(page);
            Vec::new()
        });
    }

    /// A newer page of a conversation opened far back: read, when the page
    /// is in view (my read marker follows what I have scrolled through).
    pub(crate) fn newer_page(&self, window: crate::protocol::HistoryWindow) {
        self.change(|chat, clock| {
            if let Some(t) = &mut chat.timeline {
                t.append_newer(window);
            }
            if clock.visible() {
                chat.seen()
            } else {
                Vec::new()
            }
        });
    }

    /// The page was shown again.
    pub(crate) fn seen(&self) {
        self.change(|chat, clock| {
            if clock.visible() {
                chat.seen()
            } else {
                Vec::new()
            }
        });
    }

    pub(crate) fn apply(&self, event: ServerEvent) {
        self.change(|chat, clock| {
            chat.apply(event, clock.visible(), clock.now_ms(), clock.random())
        });
    }

    /// Fetches the inbox's first page again (it may have changed unseen).
    pub(crate) fn refresh_inbox(&self) {
        self.change(|chat, _| vec![chat.refresh_inbox()]);
    }

    /// The list was scrolled to its end: the next page, once.
    pub(crate) fn load_more_inbox(&self) {
        if self.chat.with_untracked(|c| c.inbox.can_load_more()) {
            self.change(|chat, _| chat.want_more_inbox());
        }
    }

    /// A page of the inbox came (or `None`: it could not be fetched).
    pub(crate) fn inbox_arrived(&self, more: bool, page: Option<Inbox>) {
        self.change(|chat, clock| chat.inbox_arrived(more, page, clock.now_ms()));
    }

    /// "Mark all as read" (the inbox).
    pub(crate) fn mark_all_read(&self) {
        self.change(|chat, _| chat.mark_all_read());
    }

    /// I muted or unmuted `conversation` (the server said so).
    pub(crate) fn set_muted(&self, conversation: ConversationId, muted: bool) {
        self.change(|chat, _| {
            chat.muted(conversation, muted);
            Vec::new()
        });
    }

    /// The news of an action: read by the open conversation; with none
    /// open, an edit or deletion may still change an inbox preview.
    pub(crate) fn action_frame(&self, text: &str, news: News) {
        match self.chat.with_untracked(Chat::action_reader) {
            Some(read) => self.change(|chat, _| read(chat, text)),
            None if news == News::Text => self.refresh_inbox(),
            None => {}
        }
    }

    /// The next message answers `id`.
    pub(crate) fn start_reply(&self, id: &MessageId) {
        self.change(|chat, _| {
            chat.start_reply(id);
            Vec::new()
        });
    }

    /// The composer takes my message `id` to change it; its text.
    pub(crate) fn start_edit(&self, id: &MessageId) -> Option<String> {
        let mut text = None;
        self.change(|chat, _| {
            text = chat.start_edit(id);
            Vec::new()
        });
        text
    }

    pub(crate) fn cancel_draft(&self) {
        self.change(|chat, _| {
            chat.cancel_draft();
            Vec::new()
        });
    }

    pub(crate) fn edit(&self, id: MessageId, content: Content) {
        self.change(|chat, _| chat.edit(id, content, MessageId::new_v7()));
    }

    pub(crate) fn delete(&self, id: MessageId) {
        self.change(|chat, _| chat.delete(id, MessageId::new_v7()));
    }

    pub(crate) fn toggle_reaction(&self, id: MessageId, emoji: Emoji) {
        self.change(|chat, _| chat.toggle_reaction(id, emoji, MessageId::new_v7()));
    }

    pub(crate) fn changes_arrived(&self, changes: ChangesPage) {
        self.change(|chat, _| {
            chat.changes_arrived(changes);
            Vec::new()
        });
    }

    /// The open conversation's newest page, after a reconnect.
    pub(crate) fn conversation_caught_up(&self, page: HistoryPage) {
        self.change(|chat, _| chat.conversation_caught_up(page));
    }
}

// Writing messages, with their files.
#[path = "store_uploads.rs"]
mod uploads;

/// Does what a change asked for.
fn carry_out(transport: &(dyn Transport + Send + Sync), effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::Send(event) => {
                if let Ok(frame) = serde_json::to_string(&event) {
                    transport.send(frame);
                }
            }
            Effect::SendText(frame) => transport.send(frame),
            Effect::Keep(message) => transport.keep(&message),
            Effect::Forget(id) => transport.forget(&id),
            Effect::FetchInbox(cursor) => transport.fetch_inbox(cursor),
            Effect::ShowInbox => transport.show_inbox(),
            Effect::Notify(notice) => transport.notify(notice),
        }
    }
}

/// Time, chance and visibility, as the model needs them: the browser's, or
/// while rendering on the server (and before the page attaches its
/// transport) the server's "now", no chance, and a page that counts as seen.
enum Env<'a> {
    Browser(&'a (dyn Transport + Send + Sync)),
    Server(i64),
}

impl Env<'_> {
    fn now_ms(&self) -> i64 {
        match self {
            Self::Browser(t) => t.now_ms(),
            Self::Server(now) => *now,
        }
    }

    fn random(&self) -> f64 {
        match self {
            Self::Browser(t) => t.random(),
            Self::Server(_) => 0.5,
        }
    }

    fn visible(&self) -> bool {
        match self {
            Self::Browser(t) => t.visible(),
            Self::Server(_) => true,
        }
    }
}
