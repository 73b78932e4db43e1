//! The signed-in app: `/` (the inbox) and `/c/:id` (the inbox beside the
//! conversation). Both are whole in the first response: the inbox and the
//! newest history come from server functions during server rendering.

use super::NotFound;
use crate::api::accounts::Logout;
use crate::api::conversations::{ConversationView, Home, load_home};
use crate::components::avatar::Avatar;
use crate::components::composer::Composer;
use crate::components::connection_badge::ConnectionBadge;
use crate::components::inbox_list::InboxList;
use crate::components::message_list::MessageList;
use crate::components::unread_controls::{UnreadControls, UnreadTitle};
use crate::protocol::{ConversationKind, ErrorCode, MessageId};
use crate::store::ChatStore;
use leptos::either::{Either, EitherOf3};
use leptos::ev::{DragEvent, SubmitEvent};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::{LazyRoute, lazy_route};

/// The signed-in app around every conversation (inbox, new chat, the
/// connection): a part of the bundle of its own, which the log-in page never
/// loads.
pub(crate) struct ChatRoute;

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
pub(crate) struct NewChatRoute;

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
pub(crate) struct ConversationRoute;

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
pub(crate) fn ChatLayout() -> impl IntoView {
    // `/?after=…`: a later page of the inbox, as the "Older chats" link
    // asks without JavaScript (with it, pages are added to the list in
    // place and the address does not change).
    let query = use_query_map();
    let after = query.with_untracked(|q| q.get("after").filter(|a| !a.is_empty()));
    let later = after.is_some();
    let home = Resource::new(move || after.clone(), load_home);
    // A Transition, not a Suspense: going to another part of the app (a
    // part of the bundle of its own, loaded on the way) waits in here, and
    // a Suspense would take the whole app out of the page meanwhile, the
    // focus with it (typing a search lost the box).
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(Some(home)) => EitherOf3::A(view! { <SignedIn home later/> }),
                    Ok(None) => EitherOf3::B(view! { <ToLogin/> }),
                    Err(e) => EitherOf3::C(view! {
                        <main class="centered"><p class="form-error" role="alert">{e.message}</p></main>
                    }),
                }
            })}
        </Transition>
    }
}

/// Signed out: to the log-in page, by a redirect from the server (the
/// page as first loaded) or a fresh load in the browser (a session that
/// ended while the page was open, as when the socket learns it ended).
/// Not the router's `<Redirect>`: the part of the bundle the inbox loads
/// first is 0.9 KB smaller without it.
#[component]
fn ToLogin() -> impl IntoView {
    #[cfg(feature = "ssr")]
    leptos_axum::redirect("/login");
    #[cfg(feature = "hydrate")]
    let _ = window().location().set_href("/login");
}

#[component]
fn SignedIn(home: Home, later: bool) -> impl IntoView {
    let store = ChatStore::new(home.me, home.inbox, home.now_ms);
    provide_context(store);
    // New messages, as a screen reader is told of them.
    crate::components::announcer::Announcements::provide();
    let my_name = store.me().username;
    let location = use_location();

    // Runs once, in the browser, after hydration.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::attach(store));

    view! {
        // On a phone the pane beside the inbox (a conversation, a new chat)
        // takes the whole screen.
        // Searching on a phone, the search box stays above the results.
        <div class="app" class:has-conversation=move || location.pathname.with(|p| p.starts_with("/c/") || p == "/new" || p == "/search")
            class:searching=move || location.pathname.with(|p| p == "/search")>
            <aside class="sidebar">
                <header class="sidebar-head">
                    <div class="brand"><span class="brand-mark" aria-hidden="true">"n"</span>"natter"</div>
                    <ConnectionBadge/>
                    <div class="me">
                        <Avatar name=my_name.clone()/>
                        <span class="me-name" data-testid="me-name">{my_name}</span>
                        // A plain form post, hydrated or not: the server ends
                        // the session and sends the browser to the log-in
                        // page, which starts clean. Hydrated, messages still
                        // unsent are forgotten first (asked, if any).
                        <form method="post" action=Logout::url() class="logout-form" on:submit=move |ev: SubmitEvent| {
                            #[cfg(feature = "hydrate")]
                            browser::logging_out(store, ev);
                            #[cfg(not(feature = "hydrate"))]
                            let _ = ev;
                        }>
                            <button type="submit" class="button subtle">"Log out"</button>
                        </form>
                    </div>
                </header>
                <nav class="new-chat-link">
                    <a class="button primary" href="/new" aria-current=move || location.pathname.with(|p| p == "/new").then_some("page")>
                        "New chat"
                    </a>
                </nav>
                <crate::components::search_box::SearchBox/>
                <UnreadTitle/>
                <UnreadControls/>
                <InboxList later/>
            </aside>
            <main class="main-pane">
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
pub(crate) fn NoConversation() -> impl IntoView {
    view! {
        <Title text="Chats"/>
        <section class="empty-pane">
            <svg class="empty-art" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 5h16v11H8l-4 4z" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/></svg>
            <h1>"Your chats"</h1>
            <p>"Pick a conversation from the list, or start a new one."</p>
        </section>
    }
}

#[component]
pub(crate) fn ConversationPane() -> impl IntoView {
    // `?m=<message id>`: opened at that message (a search result).
    let view = jump::resource();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok((data, jump)) => EitherOf3::A(view! { <Conversation data jump/> }),
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
fn Conversation(data: ConversationView, jump: Option<jump::Jump>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.me().user_id;
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
    let other = (!group)
        .then(|| {
            conversation
                .participants
                .iter()
                .find(|p| p.user_id != me)
                .cloned()
        })
        .flatten();
    let other_id = other.as_ref().map(|o| o.user_id);
    // The member count follows people leaving while the page is open; in a
    // direct chat, whether the other person is online or when they were
    // last seen; someone typing shows in its place.
    let subtitle = move || {
        if let Some(typing) = store.typing_label(id, group) {
            return typing;
        }
        if group {
            let count = store.with(|c| c.open.as_ref().map_or(0, |o| o.participants.len()));
            return format!("{count} members");
        }
        let (hydrated, now) = (store.hydrated.get(), store.now_ms.get());
        let offset = crate::model::time::offset_minutes(now, hydrated);
        other_id
            .and_then(|other| store.with(|c| c.people.label(other, now, offset)))
            .unwrap_or_else(|| "Direct chat".to_owned())
    };
    let online =
        other_id.map(|other| Signal::derive(move || store.with(|c| c.people.online(other))));
    let blocked = data.blocked_by_me;

    let jump = jump.map(|jump| jump.message);
    let opened = store.open_conversation(data.conversation, data.page, data.newer, jump.is_some());
    on_cleanup(move || store.close_conversation(id, opened));
    // `?reply=<message id>`: the Reply link, followed without JavaScript.
    let reply = use_query_map().with_untracked(|q| q.get("reply"));
    if let Some(reply) = reply.as_deref().and_then(MessageId::parse) {
        store.start_reply(&reply);
    }
    // Each time the connection comes (back) up, the newest page is merged
    // in: messages sent while it was down, or since this page was rendered.
    #[cfg(feature = "hydrate")]
    {
        use crate::model::chat::Connection;
        let connection = Memo::new(move |_| store.connection());
        Effect::new(move |before: Option<Connection>| {
            let now = connection.get();
            if now == Connection::Connected && before.is_some_and(|b| b != now) {
                leptos::task::spawn_local(async move {
                    let page = crate::api::conversations::load_history(id.to_string(), None);
                    if let Ok(page) = page.await {
                        store.conversation_caught_up(page);
                    }
                    catch_up_changes(store, id).await;
                });
            }
            now
        });
    }
    if store.with_untracked(|c| c.inbox.get(id).is_none()) {
        // Just created, or started by someone else since the inbox loaded.
        store.refresh_inbox();
    }

    // Files dropped anywhere on the conversation are uploaded for the
    // next message (not where nothing can be sent).
    let dragging = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    provide_context(files::uploader());
    let drag_over = move |ev: DragEvent| {
        #[cfg(feature = "hydrate")]
        if !blocked {
            files::drag_over(&ev, dragging);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let drag_leave = move |ev: DragEvent| {
        #[cfg(feature = "hydrate")]
        files::drag_leave(&ev, dragging);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let drop = move |ev: DragEvent| {
        #[cfg(feature = "hydrate")]
        if !blocked {
            files::dropped(&ev, dragging, store, id);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    let (page_title, label, avatar) = (title.clone(), title.clone(), title.clone());
    view! {
        <Title text=page_title/>
        <section class="conversation" aria-label=label class:dragging=move || dragging.get()
            on:dragover=drag_over on:dragleave=drag_leave on:drop=drop>
            // "Drop files to send them", while files are dragged over (the
            // stylesheet's words).
            <div class="drop-hint" aria-hidden="true"></div>
            <header class="conversation-head">
                <a class="back" href="/" aria-label="Back to chats">"‹"</a>
                <Avatar name=avatar group online/>
                <div class="conversation-title">
                    <h1>{title}</h1>
                    <p class="subtitle" aria-live="polite" data-testid="conversation-subtitle">{subtitle}</p>
                </div>
                <head_actions::MuteButton conversation=id/>
                {if group {
                    Either::Left(view! { <head_actions::LeaveButton conversation=id/> })
                } else {
                    Either::Right(other.clone().map(|other| view! {
                        <head_actions::BlockButton conversation=id user=other.user_id block=!blocked/>
                    }))
                }}
            </header>
            <MessageList group jump/>
            {match other.filter(|_| blocked) {
                Some(other) => Either::Left(view! {
                    <p class="blocked-note" data-testid="blocked-note">
                        {format!("You blocked {}. Unblock them to send messages here.", other.username)}
                    </p>
                }),
                None => Either::Right(view! { <Composer conversation=id/> }),
            }}
        </section>
    }
}

/// Edits, deletions and reactions made while the connection was down, to
/// the messages shown (the newest page brings new messages).
#[cfg(feature = "hydrate")]
async fn catch_up_changes(store: ChatStore, id: crate::protocol::ConversationId) {
    use crate::api::messages::load_changes;
    /// Pages of 100 at most; past that the shown messages are far behind.
    const MAX_PAGES: usize = 20;
    let Some(mut since) = store.with_untracked(|c| c.timeline.as_ref().map(|t| t.last_change()))
    else {
        return;
    };
    for _ in 0..MAX_PAGES {
        let Ok(changes) = load_changes(id.to_string(), since).await else {
            return;
        };
        let more = changes.more;
        since = changes.last_change;
        store.changes_arrived(changes);
        if !more {
            return;
        }
    }
}

/// The browser's side of the signed-in app: the WebSocket and the outbox's
/// storage (`crate::client`) as the chat store's transport, and the
/// socket's events as the store's changes.
#[cfg(feature = "hydrate")]
#[path = "chat_browser.rs"]
mod browser;

/// Files in the open conversation: uploads, and drops on it.
#[cfg(feature = "hydrate")]
#[path = "chat_files.rs"]
mod files;
/// The conversation header's actions: leave, mute, block.
#[path = "chat_head_actions.rs"]
mod head_actions;
#[path = "chat_jump.rs"]
mod jump;
