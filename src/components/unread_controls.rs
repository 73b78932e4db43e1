//! The sidebar's "what did I miss": the unread count in the tab's title
//! (and, hydrated, on its icon), "Mark all as read", and the bell that
//! turns browser notifications on. Small: every signed-in page has it.

use crate::model::unread::{title_count, titled};
use crate::store::ChatStore;
use leptos::prelude::*;
use leptos_meta::Title;

/// "(3) Chats · natter" while conversations that are not muted hold
/// unread messages; the icon shows the same count once hydrated.
#[component]
pub(crate) fn UnreadTitle() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let count = Memo::new(move |_| store.with(|c| title_count(&c.inbox)));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| crate::client::notify::favicon(count.get()));
    // Stacked on the app's own formatter, which it replaces while signed in.
    let formatter = move |text: String| {
        let title = if text.is_empty() {
            "natter".to_owned()
        } else {
            format!("{text} · natter")
        };
        titled(count.get(), &title)
    };
    view! { <Title formatter/> }
}

/// The sidebar's row of controls: "Mark all as read" while anything listed
/// is unread, and the notifications bell. Both need the page's script, so
/// the row is hidden until it runs. It is plain markup wired up by
/// `client::notify::wire` rather than reactive views: every signed-in page
/// loads this first, and the inbox's first load has a size budget
/// (`end2end/tests/bundle.spec.ts`); reactive attributes and `<Show>`s cost
/// about 7 KB of it here.
#[component]
pub(crate) fn UnreadControls() -> impl IntoView {
    let bar = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let store = expect_context::<ChatStore>();
        let any_unread = Memo::new(move |_| {
            store.with(|c| c.inbox.entries().iter().any(|e| e.unread_count > 0))
        });
        Effect::new(move |_| {
            if let (Some(bar), true) = (bar.get(), store.hydrated.get()) {
                crate::client::notify::wire(&bar, any_unread.get(), move || store.mark_all_read());
            }
        });
    }
    view! {
        // Without JavaScript: "Mark all as read" as a plain form post (in
        // a <noscript>, as markup the hydrated page never walks).
        <noscript inner_html=READ_ALL_FORM></noscript>
        <div class="unread-controls" hidden node_ref=bar>
            <button type="button" class="button subtle mark-all-read" data-testid="mark-all-read" hidden>
                "Mark all as read"
            </button>
            <button type="button" class="button subtle bell" data-testid="notify-toggle" aria-pressed="false">
                <svg viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M6 17V11a6 6 0 0 1 12 0v6l1.5 2h-15zM10 21h4" fill="none"
                        stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/>
                    <path class="bell-slash" d="M4 4l16 16" stroke="currentColor" stroke-width="1.6"/>
                </svg>
                <span class="bell-text">"Notifications"</span>
            </button>
        </div>
    }
}

/// The form `noscript` holds: posts to `/api/read_all`.
const READ_ALL_FORM: &str = r#"<form method="post" action="/api/read_all" class="read-all-form"><button type="submit" class="button subtle" data-testid="read-all">Mark all as read</button></form>"#;
