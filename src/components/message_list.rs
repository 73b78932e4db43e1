//! The open conversation's messages: bubbles left and right, sender names in
//! groups, times, day separators, pending / sent / failed marks; older pages
//! load as the person scrolls up.
//!
//! The scroller is a `flex-direction: column-reverse` box around one inner
//! block, so it opens scrolled to the newest message without any script, a
//! page prepended above does not move what is on screen, and new messages
//! keep the view at the bottom when it was there.

use super::announcer::Announcer;
use super::attachments::{ImageViewer, Viewer};
use super::message::{self, Shown, receipt_tag, status_tag, who_reacted};
use crate::model::receipts::Receipt;
use crate::model::time;
use crate::model::timeline::Status;
use crate::protocol::{MessageId, UserId};
use crate::store::ChatStore;
use leptos::prelude::*;

/// A day's separator, "New messages" (where the unread began when the
/// conversation opened), or a message.
#[derive(Clone, Debug, PartialEq)]
enum Row {
    Day { key: String, label: String },
    Unread,
    Message { key: String, shown: Box<Shown> },
}

impl Row {
    fn key(&self) -> String {
        match self {
            Self::Day { key, .. } | Self::Message { key, .. } => key.clone(),
            Self::Unread => "unread".to_owned(),
        }
    }
}

fn rows(store: ChatStore, me: UserId, group: bool, jump: Option<&MessageId>) -> Vec<Row> {
    let hydrated = store.hydrated.get();
    let now = store.now_ms.get();
    store.with(|chat| {
        let timeline = &chat.timeline;
        let Some(timeline) = timeline else {
            return Vec::new();
        };
        let Some(conversation) = chat.open_id() else {
            return Vec::new();
        };
        let mut rows = Vec::with_capacity(timeline.messages().len() + 4);
        let mut previous: Option<(i64, UserId)> = None;
        let receipts = chat.receipts.of(timeline);
        let newest_mine = timeline
            .messages()
            .iter()
            .rposition(|m| m.sender_id == me && m.status == Status::Sent);
        let name = |user: &UserId| {
            if *user == me {
                "You".to_owned()
            } else {
                chat.name_of(*user).to_owned()
            }
        };
        for (index, message) in timeline.messages().iter().enumerate() {
            let offset = time::offset_minutes(message.timestamp, hydrated);
            let day = time::day_number(message.timestamp, offset);
            let today = time::day_number(now, time::offset_minutes(now, hydrated));
            let new_day = previous.is_none_or(|(d, _)| d != day);
            if new_day {
                rows.push(Row::Day {
                    key: format!("day-{day}"),
                    label: time::day_label(day, today),
                });
            }
            let unread_here = chat.unread_from.as_ref() == Some(&message.message_id);
            if unread_here {
                rows.push(Row::Unread);
            }
            let mine = message.sender_id == me;
            let new_run =
                new_day || unread_here || previous.is_none_or(|(_, s)| s != message.sender_id);
            let sender =
                (group && !mine && new_run).then(|| chat.name_of(message.sender_id).to_owned());
            let time = time::clock(message.timestamp, offset);
            let receipt = receipts.get(index).cloned().unwrap_or(Receipt::Sent);
            let seen_by: Vec<String> = if group && newest_mine == Some(index) {
                // In the members' order: by name.
                let members = chat.open.iter().flat_map(|c| &c.participants);
                members
                    .filter(|p| chat.receipts.has_seen(p.user_id, timeline, index))
                    .map(|p| p.username.clone())
                    .collect()
            } else {
                Vec::new()
            };
            rows.push(Row::Message {
                key: format!(
                    "{}|{}|{}|{}|{time}|{}|{}",
                    message.message_id,
                    message.change,
                    status_tag(&message.status),
                    sender.is_some(),
                    receipt_tag(&receipt),
                    seen_by.join(",")
                ),
                shown: Box::new(Shown {
                    quoted_name: message.reply.as_ref().map(|q| name(&q.sender_id)),
                    reaction_names: message
                        .reactions
                        .iter()
                        .map(|r| who_reacted(r, name))
                        .collect(),
                    message: message.clone(),
                    conversation,
                    mine,
                    sender,
                    time,
                    receipt,
                    seen_by,
                    jumped: jump == Some(&message.message_id),
                }),
            });
            previous = Some((day, message.sender_id));
        }
        rows
    })
}

fn render(row: Row, store: ChatStore) -> AnyView {
    match row {
        Row::Day { label, .. } => view! {
            <li class="day"><span>{label}</span></li>
        }
        .into_any(),
        Row::Unread => view! {
            <li class="unread-line" data-testid="unread-line"><span>"New messages"</span></li>
        }
        .into_any(),
        Row::Message { shown, .. } => message::render(*shown, store).into_any(),
    }
}

#[component]
pub(crate) fn MessageList(
    #[prop(into)] group: bool,
    /// The message the conversation was opened at, shown marked and in view.
    jump: Option<MessageId>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.me().user_id;
    let scroller = NodeRef::<leptos::html::Div>::new();
    let loading_older = RwSignal::new(false);
    let unseen = RwSignal::new(false);
    let at_bottom = RwSignal::new(true);
    // The picture open full size, if any.
    let viewer = Viewer(RwSignal::new(None));
    provide_context(viewer);
    let has_older = move || {
        store.with(|c| {
            c.timeline
                .as_ref()
                .is_some_and(|t| t.older_cursor().is_some())
        })
    };
    let is_empty =
        move || store.with(|c| c.timeline.as_ref().is_none_or(|t| t.messages().is_empty()));
    // Opened far back (a search result): newer pages load scrolling down.
    let has_newer = move || {
        store.with(|c| {
            c.timeline
                .as_ref()
                .is_some_and(|t| t.newer_cursor().is_some())
        })
    };
    let loading_newer = RwSignal::new(false);
    let latest = store.with_untracked(|c| c.open_id().map(|id| format!("/c/{id}?latest")));

    let load_older = move || {
        #[cfg(feature = "hydrate")]
        scroll::load_older(store, loading_older, scroller);
    };
    let load_newer = move || {
        #[cfg(feature = "hydrate")]
        newer::load(store, loading_newer, scroller);
    };
    let on_scroll = move |_| {
        #[cfg(feature = "hydrate")]
        scroll::on_scroll(scroller, at_bottom, unseen, load_older);
        #[cfg(feature = "hydrate")]
        newer::on_scroll(store, loading_newer, scroller);
    };
    #[cfg(feature = "hydrate")]
    scroll::watch(
        store,
        me,
        scroller,
        (at_bottom, loading_newer),
        unseen,
        load_older,
    );
    #[cfg(feature = "hydrate")]
    {
        // Opened at a message: that message in view. Opened with unread
        // messages: the "New messages" line near the top of the view, not
        // the bottom (the scroller's own start).
        let (to, at) = match &jump {
            Some(id) => (format!("[data-message-id=\"{id}\"]"), newer::At::Third),
            None => (".unread-line".to_owned(), newer::At::Top(UNREAD_MARGIN)),
        };
        newer::go_to(scroller, to, at);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = at_bottom;

    let to_bottom = move |_| {
        unseen.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(el) = scroller.get() {
            el.set_scroll_top(0);
        }
    };

    view! {
        <div
            class="messages"
            node_ref=scroller
            on:scroll=on_scroll
            // Not a live region (a `log` is one): each page of older
            // messages would be read out whole. The announcer says what is
            // new, once.
            role="region"
            aria-label="Messages"
            data-testid="messages"
        >
            <div class="messages-inner">
                <div class="history-edge">
                    <Show
                        when=has_older
                        fallback=move || {
                            (!is_empty()).then(|| view! { <p class="start">"This is the start of the conversation."</p> })
                        }
                    >
                        <button
                            type="button"
                            class="link load-older"
                            disabled=move || loading_older.get()
                            on:click=move |_| load_older()
                        >
                            {move || if loading_older.get() { "Loading older messages…" } else { "Load older messages" }}
                        </button>
                    </Show>
                </div>
                <Show when=is_empty>
                    <p class="empty-conversation">"No messages yet. Say hello!"</p>
                </Show>
                <ol class="message-rows">
                    <For each=move || rows(store, me, group, jump.as_ref()) key=Row::key let:row>
                        {render(row, store)}
                    </For>
                </ol>
                <Show when=has_newer>
                    <div class="history-edge newer-edge">
                        <button type="button" class="link load-newer" disabled=move || loading_newer.get()
                            on:click=move |_| load_newer()>
                            {move || if loading_newer.get() { "Loading newer messages…" } else { "Load newer messages" }}
                        </button>
                    </div>
                </Show>
            </div>
        </div>
        // Back to the newest, from far back: the conversation loaded afresh
        // (a whole page load: nothing of the far-back view carries over).
        <Show when=has_newer>
            <a class="pill jump-latest" href=latest.clone() rel="external" data-testid="jump-latest">"Jump to latest ↓"</a>
        </Show>
        <Show when=move || unseen.get()>
            <button type="button" class="pill" on:click=to_bottom>"New messages ↓"</button>
        </Show>
        <Announcer/>
        <ImageViewer viewer/>
    }
}

/// Room left above the "New messages" line when the view goes to it.
#[cfg(feature = "hydrate")]
const UNREAD_MARGIN: i32 = 12;

/// Scrolling down from far back, in the browser.
#[cfg(feature = "hydrate")]
#[path = "message_list_newer.rs"]
mod newer;

/// Scrolling in the browser.
#[cfg(feature = "hydrate")]
mod scroll {
    use super::ChatStore;
    use crate::api::conversations::load_history;
    use crate::protocol::UserId;
    use leptos::html::Div;
    use leptos::prelude::*;
    use leptos::task::spawn_local;

    /// How close to an edge (px) counts as being there.
    const EDGE: i32 = 80;
    /// Older messages are fetched when the top is this close.
    const PREFETCH: i32 = 600;

    /// Distance from the bottom (the scroller is column-reverse, so
    /// `scrollTop` is 0 at the bottom and negative above it).
    fn from_bottom(el: &web_sys::HtmlDivElement) -> i32 {
        -el.scroll_top()
    }

    fn from_top(el: &web_sys::HtmlDivElement) -> i32 {
        el.scroll_height() - el.client_height() - from_bottom(el)
    }

    pub(crate) fn on_scroll(
        scroller: NodeRef<Div>,
        at_bottom: RwSignal<bool>,
        unseen: RwSignal<bool>,
        load_older: impl Fn(),
    ) {
        let Some(el) = scroller.try_get_untracked().flatten() else {
            return;
        };
        let bottom = from_bottom(&el) < EDGE;
        at_bottom.set(bottom);
        if bottom {
            unseen.set(false);
        }
        if from_top(&el) < PREFETCH {
            load_older();
        }
    }

    pub(crate) fn load_older(store: ChatStore, loading: RwSignal<bool>, scroller: NodeRef<Div>) {
        // Called again from a frame after a page arrived: the list may be
        // gone by then (the person went elsewhere), its signals with it.
        if loading.try_get_untracked() != Some(false) {
            return;
        }
        let Some((conversation, cursor)) = store.with_untracked(|c| {
            c.timeline
                .as_ref()
                .and_then(|t| t.older_cursor().map(|c| (t.conversation_id, c.clone())))
        }) else {
            return;
        };
        loading.set(true);
        spawn_local(async move {
            let page = load_history(conversation.to_string(), Some(cursor.to_string())).await;
            if let Ok(page) = page {
                store.older_page(page);
            }
            loading.try_set(false);
            // Still at the top (a short page, a tall screen): keep going.
            request_animation_frame(move || {
                if let Some(el) = scroller.try_get_untracked().flatten()
                    && from_top(&el) < PREFETCH
                {
                    load_older(store, loading, scroller);
                }
            });
        });
    }

    /// After each change of the newest message: my own message brings the
    /// view down to it; someone else's, while I am scrolled up, shows the
    /// "new messages" pill instead of moving what I am reading.
    pub(crate) fn watch(
        store: ChatStore,
        me: UserId,
        scroller: NodeRef<Div>,
        (at_bottom, paging_newer): (RwSignal<bool>, RwSignal<bool>),
        unseen: RwSignal<bool>,
        load_older: impl Fn() + Clone + 'static,
    ) {
        let newest = Memo::new(move |_| {
            store.with(|c| {
                c.timeline
                    .as_ref()
                    .and_then(|t| t.messages().last())
                    .map(|m| (m.message_id.clone(), m.sender_id))
            })
        });
        Effect::new(
            move |previous: Option<Option<(crate::protocol::MessageId, UserId)>>| {
                let current = newest.get();
                // A newer page loaded by scrolling down is not news.
                if let Some(previous) = previous
                    && previous != current
                    && !paging_newer.get_untracked()
                    && let Some((_, sender)) = &current
                {
                    if *sender == me {
                        unseen.set(false);
                        if let Some(el) = scroller.get_untracked() {
                            el.set_scroll_top(0);
                        }
                    } else if !at_bottom.get_untracked() {
                        unseen.set(true);
                    }
                }
                current
            },
        );
        // The first page may not fill a tall screen: fetch until it does.
        Effect::new(move |_| {
            if let Some(el) = scroller.get()
                && from_top(&el) < PREFETCH
            {
                load_older();
            }
        });
    }
}
