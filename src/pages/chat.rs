//! The signed-in app: `/` (the inbox) and `/c/:id` (the inbox beside the
//! conversation). Both are whole in the first response: the inbox and the
//! newest history come from server functions during server rendering.

use super::NotFound;
use crate::api::auth::Logout;
use crate::api::chat::{ConversationView, Home, load_home, open_conversation};
use crate::components::avatar::Avatar;
use crate::components::composer::Composer;
use crate::components::connection_badge::ConnectionBadge;
use crate::components::inbox_list::InboxList;
use crate::components::message_list::MessageList;
use crate::components::state::ChatState;
use crate::protocol::{ConversationKind, ErrorCode};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::{use_location, use_params_map};
use leptos_router::{LazyRoute, lazy_route};

/// The signed-in app around every conversation (inbox, new chat, the
/// connection): a part of the bundle of its own, which the log-in page never
/// loads.
pub struct ChatRoute;

#[lazy_route]
impl LazyRoute for ChatRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ChatLayout/> }.into_any()
    }
}

/// Starting a conversation (`/new`): a part of its own too.
pub struct NewChatRoute;

#[lazy_route]
impl LazyRoute for NewChatRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        use crate::components::new_chat::NewChat;
        view! { <NewChat/> }.into_any()
    }
}

/// An open conversation: another part, loaded only with `/c/:id`.
pub struct ConversationRoute;

#[lazy_route]
impl LazyRoute for ConversationRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ConversationPane/> }.into_any()
    }
}

#[component]
pub fn ChatLayout() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_home());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(Some(home)) => EitherOf3::A(view! { <SignedIn home/> }),
                    Ok(None) => EitherOf3::B(view! { <Redirect path="/login"/> }),
                    Err(e) => EitherOf3::C(view! {
                        <main class="centered"><p class="form-error" role="alert">{e.message}</p></main>
                    }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignedIn(home: Home) -> impl IntoView {
    let state = ChatState::new(home);
    provide_context(state);
    let my_name = state.me.with_value(|me| me.username.clone());
    let location = use_location();

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        // Runs once, in the browser, after hydration.
        state.hydrated.set(true);
        state.now_ms.set(crate::client::now_ms());
        state.restore_outbox(crate::client::storage::load(state.my_id()));
        crate::client::socket::start(state);
    });

    view! {
        // On a phone the pane beside the inbox (a conversation, a new chat)
        // takes the whole screen.
        <div class="app" class:has-conversation=move || location.pathname.with(|p| p.starts_with("/c/") || p == "/new")>
            <aside class="sidebar">
                <header class="sidebar-head">
                    <div class="brand"><span class="brand-mark" aria-hidden="true">"n"</span>"natter"</div>
                    <ConnectionBadge/>
                    <div class="me">
                        <Avatar name=my_name.clone()/>
                        <span class="me-name" data-testid="me-name">{my_name}</span>
                        // A plain form post, hydrated or not: the server ends
                        // the session and sends the browser to the log-in
                        // page, which starts clean.
                        <form method="post" action=Logout::url() class="logout-form">
                            <button type="submit" class="button subtle">"Log out"</button>
                        </form>
                    </div>
                </header>
                <nav class="new-chat-link">
                    <a class="button primary" href="/new" aria-current=move || location.pathname.with(|p| p == "/new").then_some("page")>
                        "New chat"
                    </a>
                </nav>
                <InboxList/>
            </aside>
            <main class="main-pane">
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
pub fn NoConversation() -> impl IntoView {
    view! {
        <Title text="Chats"/>
        <section class="empty-pane">
            <svg class="empty-art" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 5h16v11H8l-4 4z" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/></svg>
            <h2>"Your chats"</h2>
            <p>"Pick a conversation on the left, or start a new one."</p>
        </section>
    }
}

#[component]
pub fn ConversationPane() -> impl IntoView {
    let params = use_params_map();
    let view = Resource::new(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        open_conversation,
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(data) => EitherOf3::A(view! { <Conversation data/> }),
                    Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::InvalidPayload) => {
                        EitherOf3::B(view! { <NotFound/> })
                    }
                    Err(e) => EitherOf3::C(view! { <p class="form-error" role="alert">{e.message}</p> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Conversation(data: ConversationView) -> impl IntoView {
    let state = expect_context::<ChatState>();
    let me = state.my_id();
    let conversation = data.conversation.clone();
    let id = conversation.conversation_id;
    let group = conversation.kind == ConversationKind::Group;
    let others: Vec<String> = conversation
        .participants
        .iter()
        .filter(|p| p.user_id != me)
        .map(|p| p.username.clone())
        .collect();
    let title = match (&conversation.kind, &conversation.title) {
        (ConversationKind::Group, Some(title)) => title.clone(),
        _ => others.join(", "),
    };
    let subtitle = if group {
        format!("{} members", conversation.participants.len())
    } else {
        "Direct chat".to_owned()
    };

    state.open_conversation(data.conversation, data.page);
    on_cleanup(move || {
        if state.open_id() == Some(id) {
            state.close_conversation();
        }
    });
    #[cfg(feature = "hydrate")]
    if state.inbox.with_untracked(|i| i.get(id).is_none()) {
        // Just created, or started by someone else since the inbox loaded.
        leptos::task::spawn_local(async move {
            if let Ok(Some(home)) = load_home().await {
                state.caught_up(Some(home), None);
            }
        });
    }

    let (page_title, label, avatar) = (title.clone(), title.clone(), title.clone());
    view! {
        <Title text=page_title/>
        <section class="conversation" aria-label=label>
            <header class="conversation-head">
                <a class="back" href="/" aria-label="Back to chats">"‹"</a>
                <Avatar name=avatar group/>
                <div class="conversation-title">
                    <h1>{title}</h1>
                    <p class="subtitle">{subtitle}</p>
                </div>
            </header>
            <MessageList group/>
            <Composer conversation=id/>
        </section>
    }
}
