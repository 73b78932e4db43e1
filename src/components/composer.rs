//! Writing a message. Hydrated, Enter or Send puts the message in the
//! conversation at once (pending) and on the WebSocket; without JavaScript
//! the same form posts to the server function and comes back.

use super::state::ChatState;
use crate::api::chat::SendMessage;
use crate::protocol::{ConversationId, MAX_CONTENT_CHARS, MessageId};
use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html::Textarea;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn Composer(conversation: ConversationId) -> impl IntoView {
    let state = expect_context::<ChatState>();
    // For the no-JavaScript form: a fresh id per page, so posting the same
    // form twice stores one message.
    let form_message_id = MessageId::new_v7().to_string();
    let posted = ServerAction::<SendMessage>::new();
    let text = NodeRef::<Textarea>::new();

    let submit = move || {
        let Some(area) = text.get() else { return };
        let content = area.value();
        if content.trim().is_empty() {
            return;
        }
        #[cfg(feature = "hydrate")]
        state.send(conversation, content, crate::client::now_ms());
        #[cfg(not(feature = "hydrate"))]
        let _ = (state, content);
        area.set_value("");
        let _ = area.focus();
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submit();
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
            ></textarea>
            <button type="submit" class="button primary send">"Send"</button>
        </form>
    }
}
