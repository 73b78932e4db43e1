//! The browser's side of the signed-in app: the WebSocket and the outbox's
//! storage (`crate::client`) as the chat store's transport, and the
//! socket's events as the store's changes.

use crate::api::conversations::load_home;
use crate::client::{self, socket, storage};
use crate::components::announcer::Announcements;
use crate::model::chat::Connection;
use crate::protocol::{MessageId, MessagePayload, News, ServerEvent, UserId};
use crate::store::{ChatStore, Transport};
use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

struct Browser {
    store: ChatStore,
    user: UserId,
    outgoing: UnboundedSender<String>,
}

impl Transport for Browser {
    fn send(&self, frame: String) {
        let _ = self.outgoing.unbounded_send(frame);
    }

    fn keep(&self, message: &MessagePayload) {
        storage::save(self.user, message);
    }

    fn forget(&self, id: &MessageId) {
        storage::remove(self.user, id);
    }

    fn fetch_inbox(&self, cursor: Option<String>) {
        let store = self.store;
        spawn_local(async move {
            let more = cursor.is_some();
            let page = load_home(cursor)
                .await
                .ok()
                .flatten()
                .map(|home| home.inbox);
            store.inbox_arrived(more, page);
        });
    }

    fn show_inbox(&self) {
        // Rare (left in another tab): a fresh load of the inbox.
        let _ = window().location().set_href("/");
    }

    fn now_ms(&self) -> i64 {
        client::now_ms()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn visible(&self) -> bool {
        client::page_visible()
    }

    fn notify(&self, notice: crate::model::unread::Notice) {
        client::notify::show(notice);
    }
}

/// The chat, and what a screen reader is told of new messages.
struct Page(ChatStore, Announcements);

impl socket::Events for Page {
    fn connected(&self) {
        let store = self.0;
        store.connected();
        // What happened while this page was not connected: a fresh
        // inbox (an open conversation fetches its own newest page).
        store.refresh_inbox();
    }

    fn disconnected(&self, offline: bool) {
        self.0.disconnected(if offline {
            Connection::Offline
        } else {
            Connection::Reconnecting
        });
    }

    fn frame(&self, event: ServerEvent) {
        self.1.heard(self.0, &event);
        self.0.apply(event);
    }

    fn action(&self, text: String, news: News) {
        self.0.action_frame(&text, news);
    }

    fn signed_out(&self) {
        // The session ended (logged out elsewhere, or expired): what it
        // left unsent cannot go, and is not left for the next person.
        storage::clear(self.0.me().user_id);
        self.0.disconnected(Connection::Offline);
        let _ = window().location().set_href("/login");
    }

    fn tick(&self) {
        self.0.tick();
    }

    fn shown(&self) {
        self.0.seen();
    }
}

/// The "Log out" form is being posted: messages still unsent are
/// forgotten, after asking whether to log out all the same (if not,
/// the form is not posted).
pub(crate) fn logging_out(store: ChatStore, ev: leptos::ev::SubmitEvent) {
    let pending = store.with_untracked(|c| c.unsent());
    let sure = pending == 0
        || window()
            .confirm_with_message(&format!(
                "{pending} message(s) not sent yet will be lost. Log out anyway?"
            ))
            .unwrap_or(true);
    if sure {
        storage::clear(store.me().user_id);
    } else {
        ev.prevent_default();
    }
}

/// Starts the browser's side: the clock and time zone take over from
/// the server's, messages left by an earlier page are back in the
/// outbox, and the socket connects.
pub(crate) fn attach(store: ChatStore) {
    store.hydrated.set(true);
    store.now_ms.set(client::now_ms());
    let user = store.me().user_id;
    // The signed-in pages made it (a fresh one, heard by nobody, if not).
    let announcements = use_context::<Announcements>().unwrap_or_else(Announcements::provide);
    let outgoing = socket::start(Page(store, announcements));
    store.attach(Arc::new(Browser {
        store,
        user,
        outgoing,
    }));
    store.restore(storage::load(user));
}
