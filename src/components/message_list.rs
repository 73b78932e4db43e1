//! The open conversation's messages: bubbles left and right, sender names in
//! groups, times, day separators, pending / sent / failed marks; older pages
//! load as the person scrolls up.
//!
//! The scroller is a `flex-direction: column-reverse` box around one inner
//! block, so it opens scrolled to the newest message without any script, a
//! page prepended above does not move what is on screen, and new messages
//! keep the view at the bottom when it was there.

use crate::model::receipts::Receipt;
use crate::model::time;
use crate::model::timeline::{ChatMessage, Status};
use crate::protocol::UserId;
use crate::store::ChatStore;
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
enum Row {
    Day {
        key: String,
        label: String,
    },
    Message {
        key: String,
        message: ChatMessage,
        mine: bool,
        sender: Option<String>,
        time: String,
        /// Mine and stored: how far it got.
        receipt: Receipt,
        /// Mine, the newest of mine, in a group: who has read it.
        seen_by: Vec<String>,
    },
}

impl Row {
    fn key(&self) -> String {
        match self {
            Self::Day { key, .. } | Self::Message { key, .. } => key.clone(),
        }
    }
}

fn status_tag(status: &Status) -> &'static str {
    match status {
        Status::Sent => "sent",
        Status::Pending => "pending",
        Status::Retrying { .. } => "retrying",
        Status::Failed { .. } => "failed",
    }
}

fn receipt_tag(receipt: &Receipt) -> &'static str {
    match receipt {
        Receipt::Sent => "sent",
        Receipt::Delivered => "delivered",
        Receipt::Seen => "seen",
    }
}

fn rows(store: ChatStore, me: UserId, group: bool) -> Vec<Row> {
    let hydrated = store.hydrated.get();
    let now = store.now_ms.get();
    store.with(|chat| {
        let timeline = &chat.timeline;
        let Some(timeline) = timeline else {
            return Vec::new();
        };
        let mut rows = Vec::with_capacity(timeline.messages().len() + 4);
        let mut previous: Option<(i64, UserId)> = None;
        let receipts = chat.receipts.of(timeline);
        let newest_mine = timeline
            .messages()
            .iter()
            .rposition(|m| m.sender_id == me && m.status == Status::Sent);
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
            let mine = message.sender_id == me;
            let new_run = new_day || previous.is_none_or(|(_, s)| s != message.sender_id);
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
                    "{}|{}|{}|{time}|{}|{}",
                    message.message_id,
                    status_tag(&message.status),
                    sender.is_some(),
                    receipt_tag(&receipt),
                    seen_by.join(",")
                ),
                message: message.clone(),
                mine,
                sender,
                time,
                receipt,
                seen_by,
            });
            previous = Some((day, message.sender_id));
        }
        rows
    })
}

fn render(row: Row, store: ChatStore) -> AnyView {
    match row {
        Row::Day { label, .. } => view! {
            <li class="day" role="separator"><span>{label}</span></li>
        }
        .into_any(),
        Row::Message {
            message,
            mine,
            sender,
            time,
            receipt,
            seen_by,
            ..
        } => {
            let status = status_tag(&message.status);
            let id = message.message_id.clone();
            let mark = mine.then(|| match &message.status {
                Status::Sent => {
                    let (ticks, label) = match receipt {
                        Receipt::Sent => ("✓", "Sent"),
                        Receipt::Delivered => ("✓✓", "Delivered"),
                        Receipt::Seen => ("✓✓", "Seen"),
                    };
                    view! {
                        <span class="mark" class:seen=receipt == Receipt::Seen title=label data-receipt=receipt_tag(&receipt)>
                            {ticks}<span class="visually-hidden">{format!(" {label}")}</span>
                        </span>
                    }
                    .into_any()
                }
                Status::Pending => view! { <span class="mark" title="Sending">"◷"<span class="visually-hidden">" Sending"</span></span> }.into_any(),
                // Still on its way: the outbox tries again by itself.
                Status::Retrying { reason } => {
                    let title = format!("Not sent yet, trying again: {reason}");
                    view! { <span class="mark waiting" title=title>"◷"<span class="visually-hidden">" Not sent yet, trying again"</span></span> }.into_any()
                }
                Status::Failed { reason } => {
                    let reason = reason.clone();
                    view! {
                        <span class="failed" role="alert">"Not sent: " {reason}</span>
                        <button type="button" class="link retry" on:click=move |_| store.retry(&id)>"Retry"</button>
                    }
                    .into_any()
                }
            });
            view! {
                <li
                    class="message"
                    class:mine=mine
                    class:theirs=!mine
                    data-testid="message"
                    data-message-id=message.message_id.to_string()
                    data-status=status
                >
                    {sender.map(|name| view! { <span class="sender">{name}</span> })}
                    <div class="bubble">
                        <p class="text">{message.content.into_string()}</p>
                        <span class="meta">
                            <time datetime=time::iso(message.timestamp)>{time}</time>
                            {mark}
                        </span>
                    </div>
                    {(!seen_by.is_empty()).then(|| view! {
                        // Who: on hover, and on a tap (a plain disclosure).
                        <details class="seen-by" data-testid="seen-by">
                            <summary title=seen_by.join(", ")>{format!("Seen by {}", seen_by.len())}</summary>
                            <span>{seen_by.join(", ")}</span>
                        </details>
                    })}
                </li>
            }
            .into_any()
        }
    }
}

#[component]
pub(crate) fn MessageList(#[prop(into)] group: bool) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.me().user_id;
    let scroller = NodeRef::<leptos::html::Div>::new();
    let loading_older = RwSignal::new(false);
    let unseen = RwSignal::new(false);
    let at_bottom = RwSignal::new(true);
    let has_older = move || {
        store.with(|c| {
            c.timeline
                .as_ref()
                .is_some_and(|t| t.older_cursor().is_some())
        })
    };
    let is_empty =
        move || store.with(|c| c.timeline.as_ref().is_none_or(|t| t.messages().is_empty()));

    let load_older = move || {
        #[cfg(feature = "hydrate")]
        scroll::load_older(store, loading_older, scroller);
    };
    let on_scroll = move |_| {
        #[cfg(feature = "hydrate")]
        scroll::on_scroll(scroller, at_bottom, unseen, load_older);
    };
    #[cfg(feature = "hydrate")]
    scroll::watch(store, me, scroller, at_bottom, unseen, load_older);
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
            role="log"
            aria-label="Messages"
            aria-live="polite"
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
                    <For each=move || rows(store, me, group) key=Row::key let:row>
                        {render(row, store)}
                    </For>
                </ol>
            </div>
        </div>
        <Show when=move || unseen.get()>
            <button type="button" class="pill" on:click=to_bottom>"New messages ↓"</button>
        </Show>
    }
}

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
        let Some(el) = scroller.get_untracked() else {
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
        if loading.get_untracked() {
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
            loading.set(false);
            // Still at the top (a short page, a tall screen): keep going.
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked()
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
        at_bottom: RwSignal<bool>,
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
                if let Some(previous) = previous
                    && previous != current
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
