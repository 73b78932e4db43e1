//! Whether live updates are flowing: shown once the page is hydrated (before
//! that, and without JavaScript, there is no live connection to speak of).

use crate::model::chat::Connection;
use crate::store::ChatStore;
use leptos::prelude::*;

#[component]
pub(crate) fn ConnectionBadge() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let connection = Memo::new(move |_| store.connection());
    let label = move || connection.get().label();
    let kind = move || match connection.get() {
        Connection::Connected => "connected",
        Connection::Connecting => "connecting",
        Connection::Reconnecting => "reconnecting",
        Connection::Offline => "offline",
    };
    view! {
        <span
            class="connection"
            data-state=kind
            role="status"
            data-testid="connection"
            hidden=move || !store.hydrated.get()
        >
            <span class="dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}
