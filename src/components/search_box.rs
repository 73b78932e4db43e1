//! The sidebar's search box: a plain GET form to `/search` that works
//! without JavaScript. Hydrated, results come as the person types (see
//! [`typing`]): ArrowDown goes to the results, Escape closes them.

use leptos::ev::{Event, KeyboardEvent, SubmitEvent};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

#[component]
pub(crate) fn SearchBox() -> impl IntoView {
    let (location, query) = (use_location(), use_query_map());
    // On the results page, the box shows what was searched for.
    let value = move || {
        let here = location.pathname.with(|p| p == "/search");
        here.then(|| query.with(|q| q.get("q")))
            .flatten()
            .unwrap_or_default()
    };
    let on_input = move |_: Event| {
        #[cfg(feature = "hydrate")]
        typing::answer(typing::Ask::Typed);
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        typing::answer(typing::Ask::Now);
    };
    let on_keydown = move |ev: KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        match ev.key().as_str() {
            "ArrowDown" => typing::answer(typing::Ask::Down),
            "Escape" => {
                // Not the browser's own clearing: that would search again.
                ev.prevent_default();
                typing::answer(typing::Ask::Close);
            }
            _ => {}
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <form class="search-form" action="/search" method="get" role="search" on:submit=on_submit>
            <label for="search-q" class="visually-hidden">"Search messages"</label>
            <input id="search-q" name="q" type="search" placeholder="Search messages"
                maxlength="200" autocomplete="off" value=value
                on:input=on_input on:keydown=on_keydown/>
        </form>
    }
}

#[cfg(feature = "hydrate")]
#[path = "search_typing.rs"]
mod typing;
