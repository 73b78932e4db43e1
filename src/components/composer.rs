//! Writing a message. Hydrated, Enter or Send puts the message in the
//! conversation at once (pending) and on the WebSocket; without JavaScript
//! the same form posts to the server function and comes back.

use crate::api::conversations::SendMessage;
use crate::protocol::{Content, ConversationId, MAX_CONTENT_CHARS, MessageId};
use crate::store::ChatStore;
use leptos::ev::{Event, KeyboardEvent, SubmitEvent};
use leptos::html::Textarea;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub(crate) fn Composer(conversation: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    // For the no-JavaScript form: a fresh id per page, so posting the same
    // form twice stores one message.
    let form_message_id = MessageId::new_v7().to_string();
    let posted = ServerAction::<SendMessage>::new();
    let text = NodeRef::<Textarea>::new();

    let submit = move || {
        let Some(area) = text.get() else { return };
        // Blank or too long (the box's maxlength stops that) is not a
        // message: nothing to send.
        let Ok(content) = Content::parse(&area.value()) else {
            return;
        };
        store.write(conversation, content);
        area.set_value("");
        let _ = area.focus();
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
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
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
        <form class="composer" action=SendMessage::url() method="post" on:submit=on_submit>
            <input type="hidden" name="conversation_id" value=conversation.to_string()/>
            <input type="hidden" name="message_id" value=form_message_id/>
            <textarea
                name="content"
                aria-label="Message"
                placeholder="Write a message"
                rows="1"
                maxlength=MAX_CONTENT_CHARS.to_string()
                required
                node_ref=text
                on:keydown=on_keydown
                on:input=on_input
            ></textarea>
            <button type="submit" class="button primary send">"Send"</button>
        </form>
    }
}
