//! One message in the conversation: its bubble (the quote of the message it
//! answers, its text or "This message was deleted", "edited", the time and
//! my ticks), its reactions as chips, and its actions (react, reply, edit,
//! delete) in a small menu.
//!
//! Everything but editing works without JavaScript: the chips and the
//! picker are buttons of one plain form per message (`/api/react`), Reply
//! is a link (`?reply=<id>`, which renders the composer with the quote),
//! Delete a plain form (`/api/delete`), and a quote links to the message it
//! quotes. Hydrated, the same controls act over the WebSocket instead.

use crate::api::messages::{DeleteMessage, ReactToMessage};
use crate::model::markup;
use crate::model::receipts::Receipt;
use crate::model::time;
use crate::model::timeline::{ChatMessage, Status};
use crate::protocol::{ConversationId, MessageId, REACTIONS, Reaction};
use crate::store::ChatStore;
use leptos::ev::MouseEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// How many of [`REACTIONS`] the menu offers.
const PICKER: usize = 8;

/// A message and what the list knows around it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Shown {
    pub(crate) message: ChatMessage,
    pub(crate) conversation: ConversationId,
    pub(crate) mine: bool,
    /// The sender's name, over the first of a run in a group.
    pub(crate) sender: Option<String>,
    pub(crate) time: String,
    /// Mine and stored: how far it got.
    pub(crate) receipt: Receipt,
    /// Mine, the newest of mine, in a group: who has read it.
    pub(crate) seen_by: Vec<String>,
    /// Who wrote the message it answers.
    pub(crate) quoted_name: Option<String>,
    /// For each reaction, who gave it ("alice, bob and 3 others").
    pub(crate) reaction_names: Vec<String>,
    /// The message the conversation was opened at (a search result).
    pub(crate) jumped: bool,
}

pub(crate) fn status_tag(status: &Status) -> &'static str {
    match status {
        Status::Sent => "sent",
        Status::Pending => "pending",
        Status::Retrying { .. } => "retrying",
        Status::Failed { .. } => "failed",
        Status::Uploading => "uploading",
    }
}

pub(crate) fn receipt_tag(receipt: &Receipt) -> &'static str {
    match receipt {
        Receipt::Sent => "sent",
        Receipt::Delivered => "delivered",
        Receipt::Seen => "seen",
    }
}

/// "alice, bob and 3 others" for a reaction.
pub(crate) fn who_reacted(
    reaction: &Reaction,
    name: impl Fn(&crate::protocol::UserId) -> String,
) -> String {
    let names: Vec<String> = reaction.users.iter().map(name).collect();
    let others = reaction.count - names.len() as i64;
    match others {
        n if n > 0 => format!("{} and {n} more", names.join(", ")),
        _ => names.join(", "),
    }
}

fn mark(shown: &Shown, store: ChatStore) -> Option<AnyView> {
    let message = &shown.message;
    let id = message.message_id.clone();
    shown.mine.then(|| match &message.status {
        Status::Sent => {
            let receipt = shown.receipt.clone();
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
        // Held until its files are uploaded (their chips show how far).
        Status::Uploading => view! { <span class="mark waiting" title="Uploading files…">"◷"<span class="visually-hidden">" Uploading files"</span></span> }.into_any(),
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
    })
}

/// A reaction button: a submit button of the message's reaction form
/// (`+` gives, `-` takes back); hydrated, a toggle over the WebSocket.
fn reaction_button(
    store: ChatStore,
    form: String,
    id: MessageId,
    emoji: &'static str,
    given: bool,
    label: String,
    class: &'static str,
) -> impl IntoView {
    let value = format!("{}{emoji}", if given { '-' } else { '+' });
    let toggle = move |ev: MouseEvent| {
        ev.prevent_default();
        if let Ok(emoji) = crate::protocol::Emoji::parse(emoji) {
            store.toggle_reaction(id.clone(), emoji);
        }
    };
    view! {
        <button type="submit" form=form name="reaction" value=value class=class
            class:mine=given title=label.clone() aria-label=label aria-pressed=given.to_string() on:click=toggle>
            {emoji}
        </button>
    }
}

pub(crate) fn render(shown: Shown, store: ChatStore) -> impl IntoView {
    let mark = mark(&shown, store);
    let Shown {
        message,
        conversation,
        mine,
        sender,
        time,
        seen_by,
        quoted_name,
        reaction_names,
        jumped,
        ..
    } = shown;
    let id = message.message_id.clone();
    let stored = message.status == Status::Sent;
    let deleted = message.content.is_none();
    let form = format!("react-{id}");
    let quote = message.reply.clone().map(|quote| {
        let target = quote.message_id.clone();
        let jump = move |ev: MouseEvent| {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            jump::to(store, target.clone());
            #[cfg(not(feature = "hydrate"))]
            let _ = &target;
        };
        let text = match quote.text {
            None => "This message was deleted".to_owned(),
            Some(text) if text.is_empty() => "📎 Attachment".to_owned(),
            Some(text) => text,
        };
        view! {
            <a class="quote" href=format!("#{}", quote.message_id) data-testid="quote" on:click=jump>
                <span class="quote-name">{quoted_name.unwrap_or_default()}</span>
                <span class="quote-text">{text}</span>
            </a>
        }
    });
    // A message of files alone has no text to show.
    let files_only = message.has_no_text();
    // Links, formatting and mentions, read the same on the server and in
    // the browser (docs/protocol.md 5.4); a mention of me lights up the
    // bubble of whoever wrote it.
    let spans = message
        .content
        .as_deref()
        .map(markup::parse)
        .unwrap_or_default();
    let me = store.me().username;
    let mentions_me = !mine && markup::mentions(&spans, &me);
    let text = match &message.content {
        Some(text) if text.is_empty() => None,
        Some(_) => Some(super::rich_text::message_text(spans, &me)),
        None => Some(view! { <p class="text deleted">"This message was deleted"</p> }.into_any()),
    };
    let files = (!message.attachments.is_empty())
        .then(|| super::attachments::attachments(message.attachments.clone()));
    let chips = (!message.reactions.is_empty()).then(|| {
        let chips = message
            .reactions
            .iter()
            .zip(reaction_names)
            .map(|(r, names)| {
                // Emoji the page offers are `'static`; others show without a
                // button.
                let emoji = REACTIONS.iter().find(|e| **e == r.emoji.as_str());
                let count = r.count;
                match emoji {
                    Some(emoji) => view! {
                        <span class="chip-wrap" data-testid="reaction" data-emoji=*emoji data-count=count>
                            {reaction_button(store, form.clone(), id.clone(), emoji, r.mine, format!("{emoji} {names}"), "chip")}
                            <span class="count">{count}</span>
                        </span>
                    }
                    .into_any(),
                    None => view! {
                        <span class="chip-wrap" data-testid="reaction" data-emoji=r.emoji.to_string() data-count=count title=names>
                            <span class="chip">{r.emoji.to_string()}</span><span class="count">{count}</span>
                        </span>
                    }
                    .into_any(),
                }
            })
            .collect_view();
        view! { <div class="reactions">{chips}</div> }
    });
    // A long press on a phone (and a right click) opens the menu, as in
    // the chat apps people know: browsers report both as `contextmenu`.
    let menu = NodeRef::<leptos::html::Details>::new();
    let long_press = move |ev: MouseEvent| {
        if let Some(menu) = menu.get_untracked() {
            ev.prevent_default();
            menu.set_open(true);
        }
    };
    let actions = (stored && !deleted).then(|| {
        let close = move || {
            if let Some(menu) = menu.get_untracked() {
                menu.set_open(false);
            }
        };
        let given: Vec<bool> = REACTIONS[..PICKER]
            .iter()
            .map(|e| message.reactions.iter().any(|r| r.mine && r.emoji.as_str() == *e))
            .collect();
        let picker = REACTIONS[..PICKER]
            .iter()
            .zip(given)
            .map(|(emoji, given)| {
                reaction_button(store, form.clone(), id.clone(), emoji, given, format!("React {emoji}"), "pick")
            })
            .collect_view();
        let reply_id = id.clone();
        let reply = move |ev: MouseEvent| {
            ev.prevent_default();
            store.start_reply(&reply_id);
            close();
        };
        let edit_id = id.clone();
        let edit = move |_| {
            store.start_edit(&edit_id);
            close();
        };
        let delete_id = id.clone();
        let delete = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            if window()
                .confirm_with_message("Delete this message for everyone?")
                .unwrap_or(false)
            {
                store.delete(delete_id.clone());
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &delete_id;
            close();
        };
        view! {
            <details class="actions" node_ref=menu data-testid="message-actions">
                <summary aria-label="Message actions" title="React, reply…">"⋯"</summary>
                <div class="menu">
                    <div class="picker">{picker}</div>
                    <a class="menu-item" href=format!("?reply={id}") on:click=reply data-testid="reply">"Reply"</a>
                    {(mine && !files_only && store.hydrated.get_untracked()).then(|| view! {
                        <button type="button" class="menu-item" on:click=edit data-testid="edit">"Edit"</button>
                    })}
                    {mine.then(|| view! {
                        <form method="post" action=DeleteMessage::url() on:submit=delete>
                            <input type="hidden" name="conversation_id" value=conversation.to_string()/>
                            <input type="hidden" name="message_id" value=id.to_string()/>
                            <input type="hidden" name="action_id" value=MessageId::new_v7().to_string()/>
                            <button type="submit" class="menu-item danger" data-testid="delete">"Delete"</button>
                        </form>
                    })}
                </div>
            </details>
        }
    });
    let reaction_form = (stored && !deleted).then(|| {
        view! {
            <form id=form.clone() method="post" action=ReactToMessage::url() class="reaction-form">
                <input type="hidden" name="conversation_id" value=conversation.to_string()/>
                <input type="hidden" name="message_id" value=id.to_string()/>
                <input type="hidden" name="action_id" value=MessageId::new_v7().to_string()/>
            </form>
        }
    });
    view! {
        <li
            class="message"
            class:mine=mine
            class:theirs=!mine
            class:jumped=jumped
            id=id.to_string()
            data-testid="message"
            data-message-id=id.to_string()
            data-status=status_tag(&message.status)
            data-deleted=deleted.then_some("true")
        >
            {sender.map(|name| view! { <span class="sender">{name}</span> })}
            <div class="bubble-row">
                <div class="bubble" class:deleted=deleted class:files-only=files_only class:mentions-me=mentions_me on:contextmenu=long_press>
                    {quote}
                    {files}
                    {text}
                    <span class="meta">
                        {(message.edited && !deleted).then(|| view! { <span class="edited" data-testid="edited">"edited"</span> })}
                        <time datetime=time::iso(message.timestamp)>{time}</time>
                        {mark}
                    </span>
                </div>
                {actions}
            </div>
            {reaction_form}
            {chips}
            {(!seen_by.is_empty()).then(|| view! {
                // Who: on hover, and on a tap (a plain disclosure).
                <details class="seen-by" data-testid="seen-by">
                    <summary title=seen_by.join(", ")>{format!("Seen by {}", seen_by.len())}</summary>
                    <span>{seen_by.join(", ")}</span>
                </details>
            })}
        </li>
    }
}

/// Going to the message a quote names: scrolled to and lit up, after
/// loading older pages until it is there.
#[cfg(feature = "hydrate")]
mod jump {
    use crate::api::conversations::load_history;
    use crate::protocol::MessageId;
    use crate::store::ChatStore;
    use leptos::prelude::*;
    use leptos::task::spawn_local;

    /// Pages loaded at most to find it (50 each).
    const MAX_PAGES: usize = 40;

    pub(super) fn to(store: ChatStore, id: MessageId) {
        spawn_local(async move {
            for _ in 0..MAX_PAGES {
                let shown = store.with_untracked(|c| {
                    c.timeline
                        .as_ref()
                        .is_some_and(|t| t.position(&id).is_some())
                });
                if shown {
                    break;
                }
                let Some((conversation, cursor)) = store.with_untracked(|c| {
                    c.timeline
                        .as_ref()
                        .and_then(|t| t.older_cursor().map(|o| (t.conversation_id, o.clone())))
                }) else {
                    break;
                };
                match load_history(conversation.to_string(), Some(cursor.to_string())).await {
                    Ok(page) => store.older_page(page),
                    Err(_) => return,
                }
            }
            // After the list has drawn what was loaded.
            request_animation_frame(move || {
                let Some(el) = document().get_element_by_id(id.as_str()) else {
                    return;
                };
                el.scroll_into_view();
                let _ = el.class_list().add_1("flash");
                set_timeout(
                    move || {
                        let _ = el.class_list().remove_1("flash");
                    },
                    std::time::Duration::from_millis(1600),
                );
            });
        });
    }
}
