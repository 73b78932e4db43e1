//! The inbox: every conversation, most recent activity first, with a preview
//! and an unread badge.

use super::avatar::Avatar;
use crate::model::time;
use crate::protocol::{ConversationKind, InboxEntry, UserId};
use crate::store::ChatStore;
use leptos::prelude::*;

/// How a conversation is named: the other person, the group's title, or its
/// members' names.
pub(crate) fn display_name(entry: &InboxEntry, me: UserId) -> String {
    match entry.kind {
        ConversationKind::Direct => entry
            .participant_name
            .clone()
            .unwrap_or_else(|| "Direct chat".into()),
        ConversationKind::Group => entry.title.clone().unwrap_or_else(|| {
            let names: Vec<&str> = entry
                .participants
                .iter()
                .filter(|p| p.user_id != me)
                .map(|p| p.username.as_str())
                .collect();
            names.join(", ")
        }),
    }
}

fn preview(entry: &InboxEntry, me: UserId) -> String {
    let Some(text) = &entry.last_message else {
        return "No messages yet".into();
    };
    let text: String = text.chars().take(120).collect();
    match entry.last_sender_id {
        Some(sender) if sender == me => format!("You: {text}"),
        Some(sender) if entry.kind == ConversationKind::Group => {
            let name = entry
                .participants
                .iter()
                .find(|p| p.user_id == sender)
                .map_or("someone", |p| p.username.as_str());
            format!("{name}: {text}")
        }
        _ => text,
    }
}

#[component]
pub(crate) fn InboxList() -> impl IntoView {
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
                    let name = display_name(entry, me);
                    let offset = time::offset_minutes(entry.timestamp, hydrated);
                    let when = time::short_when(entry.timestamp, now, offset);
                    let unread = entry.unread_count;
                    let current = (open == Some(entry.conversation_id)).then_some("page");
                    let href = format!("/c/{}", entry.conversation_id);
                    let group = entry.kind == ConversationKind::Group;
                    view! {
                        <li>
                            <a
                                class="inbox-row"
                                class:unread={unread > 0}
                                href=href
                                aria-current=current
                                data-testid="inbox-row"
                                data-conversation-id=entry.conversation_id.to_string()
                            >
                                <Avatar name=name.clone() group/>
                                <span class="inbox-text">
                                    <span class="inbox-top">
                                        <span class="inbox-name">{name}</span>
                                        <time class="inbox-time" datetime=time::iso(entry.timestamp)>{when}</time>
                                    </span>
                                    <span class="inbox-bottom">
                                        <span class="inbox-preview" data-testid="inbox-preview">{preview(entry, me)}</span>
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
    let empty = move || shown.with(|(inbox, _)| inbox.entries().is_empty());
    view! {
        <nav class="inbox" aria-label="Conversations">
            <Show when=empty>
                <p class="inbox-empty">"No conversations yet. Start one with New chat."</p>
            </Show>
            <ul class="inbox-list">{rows}</ul>
        </nav>
    }
}
