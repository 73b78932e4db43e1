//! The conversation header's actions, each a plain form post that works
//! without JavaScript: leaving a group, muting, blocking the other person
//! of a direct chat.

use crate::api::conversations::{BlockUser, LeaveConversation, MuteConversation};
use crate::protocol::{ConversationId, UserId};
use crate::store::ChatStore;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// Leaving a group: a plain form post (the server sends the browser back
/// to the inbox), asked to be confirmed first when JavaScript runs.
#[component]
pub(super) fn LeaveButton(conversation: ConversationId) -> impl IntoView {
    let confirm = move |ev: SubmitEvent| {
        #[cfg(feature = "hydrate")]
        if !window()
            .confirm_with_message("Leave this group? You will no longer get its messages.")
            .unwrap_or(false)
        {
            ev.prevent_default();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <form method="post" action=LeaveConversation::url() class="head-action" on:submit=confirm>
            <input type="hidden" name="conversation_id" value=conversation.to_string()/>
            <button type="submit" class="button subtle" data-testid="leave-group">"Leave group"</button>
        </form>
    }
}

/// Muting or unmuting the conversation: a plain form post that comes back
/// here; hydrated, the page posts it itself and stays (the
/// `conversation.muted` event, or the answer, updates the page).
#[component]
pub(super) fn MuteButton(conversation: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let muted = Memo::new(move |_| store.with(|c| c.open.as_ref().is_some_and(|o| o.muted)));
    let submit = move |ev: SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            let wanted = !muted.get_untracked();
            leptos::task::spawn_local(async move {
                let asked = crate::api::conversations::mute_conversation(conversation, wanted);
                if asked.await.is_ok() {
                    store.set_muted(conversation, wanted);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <form method="post" action=MuteConversation::url() class="head-action" on:submit=submit>
            <input type="hidden" name="conversation_id" value=conversation.to_string()/>
            <input type="hidden" name="muted" value=move || (!muted.get()).to_string()/>
            <button type="submit" class="button subtle mute-button" data-testid="mute-toggle"
                aria-pressed=move || muted.get().to_string()>
                {move || if muted.get() { "Unmute" } else { "Mute" }}
            </button>
        </form>
    }
}

/// Blocking (`block`) or unblocking the other person of a direct chat: a
/// plain form post that comes back to the conversation.
#[component]
pub(super) fn BlockButton(
    conversation: ConversationId,
    user: UserId,
    block: bool,
) -> impl IntoView {
    view! {
        <form method="post" action=BlockUser::url() class="head-action">
            <input type="hidden" name="user_id" value=user.to_string()/>
            <input type="hidden" name="block" value=block.to_string()/>
            <input type="hidden" name="conversation_id" value=conversation.to_string()/>
            <button type="submit" class="button subtle" data-testid="block-user">
                {if block { "Block" } else { "Unblock" }}
            </button>
        </form>
    }
}
