//! The inbox: every conversation, most recent activity first, with a preview
//! and an unread badge, a page at a time (the next as the list scrolls to
//! its end, or by a plain link without JavaScript).

use super::avatar::Avatar;
use crate::model::time;
use crate::protocol::{ConversationKind, InboxEntry, UserId, attachment_preview};
use crate::store::ChatStore;
use leptos::prelude::*;

/// How a conversation is named: the other person, the group's title, or a
/// few of its members' names and how many more ("bob, carol, dave +5").
pub(crate) fn display_name(entry: &InboxEntry) -> String {
    match entry.kind {
        ConversationKind::Direct => entry
            .participant_name
            .clone()
            .unwrap_or_else(|| "Direct chat".into()),
        ConversationKind::Group => entry.title.clone().unwrap_or_else(|| {
            let names: Vec<&str> = entry
                .participants
                .iter()
                .map(|p| p.username.as_str())
                .collect();
            let mut name = names.join(", ");
            let rest = entry.member_count - 1 - names.len() as i64;
            if rest > 0 {
                name.push_str(&format!(" +{rest}"));
            }
            if name.is_empty() {
                // Everyone else left.
                name.push_str("Just you");
            }
            name
        }),
    }
}

fn preview(entry: &InboxEntry, me: UserId) -> String {
    let text: String = match (&entry.last_message, &entry.last_message_id) {
        (Some(text), _) if !text.is_empty() => text.chars().take(120).collect(),
        // Files alone: "📷 Photo", or the file's name.
        _ if entry.last_attachment.is_some() => {
            attachment_preview(entry.last_attachment.as_slice()).unwrap_or_default()
        }
        (Some(_), _) => String::new(),
        (None, Some(_)) => "This message was deleted".into(),
        (None, None) => return "No messages yet".into(),
    };
    match entry.last_sender_id {
        Some(sender) if sender == me => format!("You: {text}"),
        Some(_) if entry.kind == ConversationKind::Group => match &entry.last_sender_name {
            Some(name) => format!("{name}: {text}"),
            None => text,
        },
        _ => text,
    }
}

/// `later`: the page shown is not the first (`/?after=…`, followed without
/// JavaScript), so the list offers the way back to the newest.
#[component]
pub(crate) fn InboxList(later: bool) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.me().user_id;
    // The list is rebuilt whole when it changes: only when the inbox or the
    // open conversation does, not on every change of the chat.
    let shown = Memo::new(move |_| store.with(|c| (c.inbox.clone(), c.open_id())));
    let rows = move || {
        let hydrated = store.hydrated.get();
        let now = store.now_ms.get();
        shown.with(|(inbox, open)| {
            let open = *open;
            inbox
                .entries()
                .iter()
                .map(|entry| {
                    let name = display_name(entry);
                    let offset = time::offset_minutes(entry.timestamp, hydrated);
                    let when = time::short_when(entry.timestamp, now, offset);
                    let unread = entry.unread_count;
                    let muted = entry.muted;
                    let current = (open == Some(entry.conversation_id)).then_some("page");
                    let href = format!("/c/{}", entry.conversation_id);
                    let group = entry.kind == ConversationKind::Group;
                    // Someone typing there shows in place of the last message.
                    let (id, preview) = (entry.conversation_id, preview(entry, me));
                    let typing_label = move || store.typing_label(id, group);
                    let typing = move || typing_label().is_some();
                    // The other person of a direct chat: a dot while online.
                    let online = entry.participant.filter(|_| !group).map(|other| {
                        Signal::derive(move || store.with(|c| c.people.online(other)))
                    });
                    view! {
                        <li>
                            <a
                                class="inbox-row"
                                class:unread={unread > 0}
                                class:muted=muted
                                href=href
                                aria-current=current
                                data-testid="inbox-row"
                                data-conversation-id=entry.conversation_id.to_string()
                            >
                                <Avatar name=name.clone() group online/>
                                <span class="inbox-text">
                                    <span class="inbox-top">
                                        <span class="inbox-name">{name}</span>
                                        {muted.then(|| view! {
                                            <svg class="muted-icon" viewBox="0 0 24 24" role="img" aria-label="Muted" data-testid="muted-icon">
                                                <path d="M6 17V11a6 6 0 0 1 12 0v6l1.5 2h-15zM4 4l16 16" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/>
                                            </svg>
                                        })}
                                        <time class="inbox-time" datetime=time::iso(entry.timestamp)>{when}</time>
                                    </span>
                                    <span class="inbox-bottom">
                                        <span class="inbox-preview" class:typing=typing data-testid="inbox-preview">{
                                            move || typing_label().unwrap_or_else(|| preview.clone())
                                        }</span>
                                        {(unread > 0).then(|| view! {
                                            <span class="badge" data-testid="unread-badge" aria-label=format!("{unread} unread")>{unread}</span>
                                        })}
                                    </span>
                                </span>
                            </a>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let empty = move || shown.with(|(inbox, _)| inbox.entries().is_empty()) && !later;
    let next = move || shown.with(|(inbox, _)| inbox.next_cursor().map(str::to_owned));
    let more = move || {
        next().map(|cursor| {
            view! {
                <a
                    class="inbox-more"
                    href=format!("/?after={cursor}")
                    data-testid="inbox-more"
                    on:click=move |ev| {
                        ev.prevent_default();
                        store.load_more_inbox();
                    }
                >
                    "Older chats"
                </a>
            }
        })
    };
    view! {
        <nav
            class="inbox"
            aria-label="Conversations"
            on:scroll=move |ev| {
                #[cfg(feature = "hydrate")]
                if near_end(&event_target(&ev)) {
                    store.load_more_inbox();
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
        >
            {later.then(|| view! { <a class="inbox-more" href="/" rel="external">"Newest chats"</a> })}
            {move || empty().then(|| view! {
                <p class="inbox-empty">"No conversations yet. Start one with New chat."</p>
            })}
            <ul class="inbox-list">{rows}</ul>
            {more}
        </nav>
    }
}

/// Whether the list (`nav`) is scrolled close enough to its end that the
/// next page should be on its way, so it is there before the reader is.
#[cfg(feature = "hydrate")]
fn near_end(nav: &web_sys::Element) -> bool {
    const PREFETCH_PX: i32 = 400;
    nav.scroll_top() + nav.client_height() + PREFETCH_PX >= nav.scroll_height()
}
