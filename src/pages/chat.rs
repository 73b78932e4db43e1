//! The signed-in app: the inbox beside the open conversation.

use crate::api::auth::{Logout, current_user};
use crate::protocol::UserSummary;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, Redirect};

#[component]
pub fn ChatLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(me)) => EitherOf3::A(view! { <SignedIn me/> }),
                    Ok(None) => EitherOf3::B(view! { <Redirect path="/login"/> }),
                    Err(e) => EitherOf3::C(view! { <p class="form-error" role="alert">{e.message}</p> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignedIn(me: UserSummary) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <div class="app">
            <header class="topbar">
                <div class="brand"><span class="brand-mark" aria-hidden="true">"n"</span>"natter"</div>
                <div class="me">
                    <span class="me-name" data-testid="me-name">{me.username.clone()}</span>
                    <ActionForm action=logout attr:class="logout-form">
                        <button type="submit" class="button subtle">"Log out"</button>
                    </ActionForm>
                </div>
            </header>
            <Outlet/>
        </div>
    }
}

#[component]
pub fn NoConversation() -> impl IntoView {
    view! {
        <Title text="Chats"/>
        <section class="empty-pane">
            <h2>"Your chats"</h2>
            <p>"Pick a conversation, or start a new one."</p>
        </section>
    }
}

#[component]
pub fn ConversationPane() -> impl IntoView {
    view! { <section class="conversation"></section> }
}
