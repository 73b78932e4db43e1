//! The sidebar's search box: a plain GET form to `/search`, the same with
//! JavaScript or without. It stays this small on purpose: it is in the
//! part of the bundle the inbox loads first.

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
    view! {
        <form class="search-form" action="/search" method="get" role="search">
            <label for="search-q" class="visually-hidden">"Search messages"</label>
            <input id="search-q" name="q" type="search" placeholder="Search messages"
                maxlength="200" autocomplete="off" value=value/>
        </form>
    }
}
