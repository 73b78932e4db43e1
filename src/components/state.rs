//! The reactive chat state every component reads: made from the server's
//! data on both sides (so the hydrated page matches the server-rendered one),
//! then kept live in the browser by the WebSocket (`crate::client`).

use crate::api::chat::Home;
use crate::model::inbox::InboxList;
use crate::model::outbox::Outbox;
use crate::model::timeline::Timeline;
use crate::protocol::{
    ClientEvent, Conversation, ConversationId, ErrorCode, ErrorPayload, HistoryPage, MessageId,
    MessagePayload, ReadPayload, ServerEvent, UserId, UserSummary,
};
use leptos::prelude::*;
use std::collections::HashMap;

/// The live connection as the person sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Before the first connection (and on the server).
    Connecting,
    Connected,
    /// Lost; trying again.
    Reconnecting,
    /// The browser says there is no network; waiting for it.
    Offline,
}

impl Connection {
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting…",
            Self::Connected => "Connected",
            Self::Reconnecting => "Reconnecting…",
            Self::Offline => "Offline",
        }
    }
}

/// What the browser hands the WebSocket task.
pub enum Outgoing {
    Frame(String),
}

#[derive(Clone, Copy)]
pub struct ChatState {
    pub me: StoredValue<UserSummary>,
    pub inbox: RwSignal<InboxList>,
    /// The open conversation's people and messages.
    pub open: RwSignal<Option<Conversation>>,
    pub timeline: RwSignal<Option<Timeline>>,
    pub outbox: RwSignal<Outbox>,
    pub connection: RwSignal<Connection>,
    /// False on the server and until hydration has finished: anything that
    /// depends on the browser (its clock's time zone, the connection state)
    /// renders the server's way until then, so hydration matches.
    pub hydrated: RwSignal<bool>,
    /// The newest message each conversation was marked read up to, so a read
    /// marker is sent once.
    read_sent: StoredValue<HashMap<ConversationId, MessageId>>,
    /// "Now" for rendering relative days: the server's clock until hydration,
    /// then the browser's.
    pub now_ms: RwSignal<i64>,
    /// Frames for the WebSocket task (browser only).
    outgoing: StoredValue<Option<futures::channel::mpsc::UnboundedSender<Outgoing>>>,
}

impl ChatState {
    pub fn new(home: Home) -> Self {
        let now_ms = home.now_ms;
        Self {
            me: StoredValue::new(home.me),
            inbox: RwSignal::new(InboxList::new(home.inbox)),
            open: RwSignal::new(None),
            timeline: RwSignal::new(None),
            outbox: RwSignal::new(Outbox::default()),
            connection: RwSignal::new(Connection::Connecting),
            hydrated: RwSignal::new(false),
            read_sent: StoredValue::new(HashMap::new()),
            now_ms: RwSignal::new(now_ms),
            outgoing: StoredValue::new(None),
        }
    }

    pub fn my_id(&self) -> UserId {
        self.me.with_value(|me| me.user_id)
    }

    pub fn open_id(&self) -> Option<ConversationId> {
        self.open
            .with_untracked(|open| open.as_ref().map(|c| c.conversation_id))
    }

    /// A display name for a participant of the open conversation.
    pub fn name_of(&self, user: UserId) -> String {
        self.open
            .with(|open| {
                open.as_ref().and_then(|c| {
                    c.participants
                        .iter()
                        .find(|p| p.user_id == user)
                        .map(|p| p.username.clone())
                })
            })
            .unwrap_or_else(|| "someone".to_owned())
    }

    pub fn set_transport(&self, sender: futures::channel::mpsc::UnboundedSender<Outgoing>) {
        self.outgoing.set_value(Some(sender));
    }

    fn transmit(&self, event: &ClientEvent) {
        if let Ok(text) = serde_json::to_string(event) {
            self.outgoing.with_value(|tx| {
                if let Some(tx) = tx {
                    let _ = tx.unbounded_send(Outgoing::Frame(text));
                }
            });
        }
    }

    /// Shows `conversation` with its newest page, plus my messages to it that
    /// are still in the outbox.
    pub fn open_conversation(&self, conversation: Conversation, page: HistoryPage) {
        let id = conversation.conversation_id;
        let mut timeline = Timeline::from_page(page);
        self.outbox.with_untracked(|outbox| {
            for pending in outbox.in_conversation(id) {
                timeline.push_pending(pending.clone());
            }
        });
        self.open.set(Some(conversation));
        self.timeline.set(Some(timeline));
        self.mark_open_read();
    }

    pub fn close_conversation(&self) {
        self.open.set(None);
        self.timeline.set(None);
    }

    /// Writes a message: shown at once as pending, kept in the outbox until
    /// acknowledged, sent now if connected (else on reconnect).
    pub fn send(&self, conversation: ConversationId, content: String, now_ms: i64) {
        let message = MessagePayload {
            conversation_id: conversation,
            sender_id: self.my_id(),
            message_id: MessageId::new_v7(),
            content,
            timestamp: now_ms,
        };
        self.outbox_push(&message);
        self.timeline.update(|t| {
            if let Some(t) = t {
                t.push_pending(message.clone());
            }
        });
        let me = self.my_id();
        let open = self.open_id();
        self.inbox.update(|i| {
            i.record(&message, me, open);
        });
        self.transmit(&ClientEvent::Send(message));
    }

    /// Retry of a failed message: same id, so it cannot double.
    pub fn retry(&self, id: &MessageId) {
        let mut again = None;
        self.timeline.update(|t| {
            if let Some(m) = t.as_mut().and_then(|t| t.retry(id)) {
                again = Some(m.clone());
            }
        });
        let (Some(m), Some(conversation)) = (again, self.open_id()) else {
            return;
        };
        let message = MessagePayload {
            conversation_id: conversation,
            sender_id: m.sender_id,
            message_id: m.message_id,
            content: m.content,
            timestamp: m.timestamp,
        };
        self.outbox_push(&message);
        self.transmit(&ClientEvent::Send(message));
    }

    fn outbox_push(&self, message: &MessagePayload) {
        self.outbox.update(|o| {
            o.push(message.clone());
        });
        #[cfg(feature = "hydrate")]
        crate::client::storage::save(self.my_id(), message);
    }

    fn outbox_remove(&self, id: &MessageId) {
        let mut removed = false;
        self.outbox.update(|o| removed = o.remove(id).is_some());
        #[cfg(feature = "hydrate")]
        if removed {
            crate::client::storage::remove(self.my_id(), id);
        }
        let _ = removed;
    }

    /// Messages a previous page of this tab (or another tab) wrote and the
    /// server never acknowledged: back in the outbox, to be sent again.
    pub fn restore_outbox(&self, pending: Vec<MessagePayload>) {
        self.timeline.update(|t| {
            if let Some(t) = t {
                for message in &pending {
                    t.push_pending(message.clone());
                }
            }
        });
        self.outbox.update(|o| {
            for message in pending {
                o.push(message);
            }
        });
    }

    /// Every message still in the outbox, again (after a reconnect).
    pub fn resend_outbox(&self) {
        let pending: Vec<MessagePayload> =
            self.outbox.with_untracked(|o| o.iter().cloned().collect());
        for message in pending {
            self.transmit(&ClientEvent::Send(message));
        }
    }

    /// Clears the open conversation's badge and tells the server (and so my
    /// other tabs) how far I have read.
    pub fn mark_open_read(&self) {
        let Some(conversation) = self.open_id() else {
            return;
        };
        self.inbox.update(|i| {
            i.mark_read(conversation);
        });
        let newest = self.timeline.with_untracked(|t| {
            t.as_ref()
                .and_then(|t| t.newest_stored())
                .map(|m| m.message_id.clone())
        });
        let Some(newest) = newest else { return };
        let already = self
            .read_sent
            .with_value(|sent| sent.get(&conversation) == Some(&newest));
        if already || self.outgoing.with_value(Option::is_none) {
            return;
        }
        self.read_sent.update_value(|sent| {
            sent.insert(conversation, newest.clone());
        });
        self.transmit(&ClientEvent::Read(ReadPayload {
            conversation_id: conversation,
            message_id: newest,
        }));
    }

    /// Forget which read markers were sent (a new connection re-sends them).
    pub fn reset_read_markers(&self) {
        self.read_sent.update_value(HashMap::clear);
    }

    /// A frame from the server. Returns true when the inbox must be fetched
    /// again (a conversation it does not list came alive).
    pub fn apply(&self, event: ServerEvent, page_visible: bool) -> bool {
        let me = self.my_id();
        let open = self.open_id();
        match event {
            ServerEvent::Receive(message) => {
                if open == Some(message.conversation_id) {
                    self.timeline.update(|t| {
                        if let Some(t) = t {
                            t.receive(message.clone());
                        }
                    });
                }
                if message.sender_id == me {
                    // Stored (sent from another tab, or resent from a shared
                    // outbox there): nothing left to send from here.
                    self.outbox_remove(&message.message_id);
                }
                let mut known = true;
                self.inbox.update(|i| known = i.record(&message, me, open));
                if open == Some(message.conversation_id) && page_visible {
                    self.mark_open_read();
                }
                !known
            }
            ServerEvent::Ack(ack) => {
                self.outbox_remove(&ack.message_id);
                self.timeline.update(|t| {
                    if let Some(t) = t {
                        t.ack(&ack.message_id, ack.timestamp);
                    }
                });
                false
            }
            ServerEvent::Read(read) => {
                self.inbox.update(|i| {
                    i.mark_read(read.conversation_id);
                });
                false
            }
            ServerEvent::Error(error) => {
                self.refused(error);
                false
            }
        }
    }

    fn refused(&self, error: ErrorPayload) {
        let Some(id) = error.message_id else {
            leptos::logging::warn!("server error: {} {}", error.code, error.message);
            return;
        };
        // A passing condition: the message stays in the outbox and goes
        // again on the next connection.
        let transient = matches!(error.code, ErrorCode::Unavailable | ErrorCode::RateLimited);
        if !transient {
            self.outbox_remove(&id);
        }
        self.timeline.update(|t| {
            if let Some(t) = t {
                t.fail(&id, error.message.clone(), transient);
            }
        });
    }

    /// Fresh data after a reconnect: the inbox, and the open conversation's
    /// newest page merged into what is shown.
    pub fn caught_up(&self, home: Option<Home>, page: Option<HistoryPage>) {
        if let Some(home) = home {
            let open = self.open_id();
            let mut inbox = InboxList::new(home.inbox);
            if let Some(open) = open {
                inbox.mark_read(open);
            }
            self.inbox.set(inbox);
        }
        if let Some(page) = page {
            self.timeline.update(|t| {
                if let Some(t) = t {
                    t.catch_up(page);
                }
            });
        }
        self.mark_open_read();
    }
}
