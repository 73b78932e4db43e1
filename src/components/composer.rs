//! Writing a message. Hydrated, Enter or Send puts the message in the
//! conversation at once (pending) and on the WebSocket, with the files
//! uploaded for it (the paperclip, a drop on the conversation, a pasted
//! picture), or waiting for those still uploading; without JavaScript the
//! same form posts the text and the files (multipart) to `/c/{id}/send` and
//! comes back. Above the box, the uploads, and the message being answered
//! (with a way to stop answering it), or "Editing" while the box holds one
//! of mine to change.

use super::mention_picker::{LIST_ID, MentionList, MentionPicker};
use super::uploads::{AttachButton, UploadChips};
use crate::api::conversations::SendMessage;
use crate::model::chat::Draft;
use crate::protocol::{Content, ConversationId, MAX_CONTENT_CHARS, MessageId};
use crate::store::ChatStore;
use leptos::ev::{ClipboardEvent, Event, KeyboardEvent, SubmitEvent};
use leptos::html::Textarea;
use leptos::prelude::*;

#[component]
pub(crate) fn Composer(conversation: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    // For the no-JavaScript form: a fresh id per page, so posting the same
    // form twice stores one message.
    let form_message_id = MessageId::new_v7().to_string();
    let posted = ServerAction::<SendMessage>::new();
    let text = NodeRef::<Textarea>::new();
    // `@` offers the group's members.
    let group = store.with_untracked(|c| {
        c.open
            .as_ref()
            .is_some_and(|o| o.kind == crate::protocol::ConversationKind::Group)
    });
    let picker = MentionPicker::new(text, group);

    #[cfg(feature = "hydrate")]
    let uploader = super::uploads::Uploader::get();

    let submit = move || {
        let Some(area) = text.get() else { return };
        // Blank is no text (a message may still be its files alone); too
        // long (the box's maxlength stops that) is not a message.
        let value = area.value();
        let content = if value.trim().is_empty() {
            Content::none()
        } else {
            match Content::parse(&value) {
                Ok(content) => content,
                Err(_) => return,
            }
        };
        match store.with_untracked(|c| c.draft.clone()) {
            Some(Draft::Edit(id)) if !content.is_empty() => store.edit(id, content),
            Some(Draft::Edit(_)) => return,
            // Neither text nor files: nothing to send.
            _ if !store.send(conversation, content) => return,
            _ => {}
        }
        area.set_value("");
        let _ = area.focus();
    };
    // Only when the draft itself changes (not on every change of the chat,
    // a typing notice included, which would put the old text back).
    let draft = Memo::new(move |_| store.with(|c| c.draft.clone()));
    // Answering or editing: the box is where the person types next; an
    // edit starts from the message's text.
    Effect::new(move |_| {
        let Some(draft) = draft.get() else { return };
        let Some(area) = text.get() else { return };
        if let Draft::Edit(id) = &draft {
            let now = store.with_untracked(|c| {
                c.timeline
                    .as_ref()
                    .and_then(|t| t.get(id))
                    .and_then(|m| m.content.clone())
            });
            if let Some(now) = now {
                area.set_value(&now);
            }
        }
        let _ = area.focus();
    });
    // No more answering or editing; an edit's text leaves the box.
    let cancel_draft = move || {
        if matches!(draft.get_untracked(), Some(Draft::Edit(_)))
            && let Some(area) = text.get()
        {
            area.set_value("");
        }
        store.cancel_draft();
    };
    let cancel = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        cancel_draft();
    };
    let bar = move || {
        let (label, quote, reply_to) = match draft.get()? {
            Draft::Reply(quote) => {
                let name = store.with(|c| {
                    if quote.sender_id == c.my_id() {
                        "yourself".to_owned()
                    } else {
                        c.name_of(quote.sender_id).to_owned()
                    }
                });
                (
                    format!("Replying to {name}"),
                    // A message of files alone has no words to quote.
                    quote
                        .text
                        .clone()
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "📎 Attachment".to_owned()),
                    Some(quote.message_id.to_string()),
                )
            }
            Draft::Edit(_) => ("Editing message".to_owned(), String::new(), None),
        };
        Some(view! {
            <div class="draft-bar" data-testid="draft-bar">
                <div class="draft-what">
                    <span class="draft-label">{label}</span>
                    <span class="draft-text">{quote}</span>
                </div>
                <a class="draft-cancel" href=format!("/c/{conversation}") on:click=cancel aria-label="Cancel" title="Cancel">"✕"</a>
                {reply_to.map(|id| view! { <input type="hidden" name="reply_to" value=id/> })}
            </div>
        })
    };
    let action_error = move || {
        store
            .with(|c| c.action_error.clone())
            .map(|e| view! { <p class="form-error composer-error" role="alert">{e}</p> })
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submit();
    };
    // The others see "typing…" while the box holds something.
    let on_input = move |_: Event| {
        if let Some(area) = text.get() {
            store.typed(conversation, area.value().trim().is_empty());
        }
        #[cfg(feature = "hydrate")]
        picker.typed(store);
    };
    // A picture pasted into the box is uploaded for the message.
    let on_paste = move |ev: ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        {
            use super::uploads::{Uploader, files_of};
            let files = files_of(ev.clipboard_data().and_then(|d| d.files()));
            if !files.is_empty() {
                ev.prevent_default();
                Uploader::upload(uploader, store, conversation, files);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_keydown = move |ev: KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        if picker.key(&ev) {
            return;
        }
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        } else if ev.key() == "Escape" && draft.get_untracked().is_some() {
            cancel_draft();
        }
    };
    let error =
        move || {
            posted.value().get().and_then(Result::err).map(
                |e| view! { <p class="form-error composer-error" role="alert">{e.message}</p> },
            )
        };
    view! {
        {error}
        {action_error}
        // Without JavaScript: a multipart post of the text and the files,
        // answered with a redirect back (errors as `?__path=/api/send&__err=`,
        // which `posted` shows).
        <form class="composer" action=format!("/c/{conversation}/send") method="post"
            enctype="multipart/form-data" on:submit=on_submit>
            {bar}
            <UploadChips conversation/>
            <input type="hidden" name="conversation_id" value=conversation.to_string()/>
            <input type="hidden" name="message_id" value=form_message_id/>
            <AttachButton conversation/>
            <textarea
                name="content"
                aria-label="Message"
                placeholder="Write a message"
                rows="1"
                maxlength=MAX_CONTENT_CHARS.to_string()
                node_ref=text
                on:paste=on_paste
                on:keydown=on_keydown
                on:input=on_input
                aria-autocomplete=group.then_some("list")
                aria-controls=move || picker.open().then_some(LIST_ID)
                aria-activedescendant=move || picker.active_id()
            ></textarea>
            <MentionList picker/>
            <button type="submit" class="button primary send">"Send"</button>
        </form>
    }
}
