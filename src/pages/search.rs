//! `/search?q=`: messages found in my conversations, rendered whole by
//! the server (a list of links that works without JavaScript), each
//! leading to its conversation opened at the message.

use crate::api::search::search_messages;
use crate::model::search::{page_url, place, result_url};
use crate::model::time;
use crate::protocol::{ApiError, SearchHit, SearchPage, SnippetPiece};
use crate::store::ChatStore;
use leptos::either::EitherOf4;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{LazyRoute, lazy_route};

/// The search results: a part of the bundle of their own.
pub(crate) struct SearchRoute;

#[lazy_route]
impl LazyRoute for SearchRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <SearchResults/> }.into_any()
    }
}

/// A page of results, or nothing to search for yet (`None`).
async fn find(q: String, cursor: Option<String>) -> Result<Option<SearchPage>, ApiError> {
    if q.trim().is_empty() {
        return Ok(None);
    }
    search_messages(q, None, cursor).await.map(Some)
}

#[component]
fn SearchResults() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|q| q.get("q").unwrap_or_default()));
    let cursor = Memo::new(move |_| query.with(|q| q.get("cursor").filter(|c| !c.is_empty())));
    let results = Resource::new(move || (q.get(), cursor.get()), |(q, c)| find(q, c));
    let heading = move || {
        let q = q.get();
        if q.trim().is_empty() {
            "Search messages".to_owned()
        } else {
            format!("Results for “{}”", q.trim())
        }
    };
    // Typing in the box asks again: the results shown stay until the new
    // ones are in (a Transition, not a "Searching…" flash per keystroke).
    let searching = RwSignal::new(false);
    view! {
        <Title text=move || format!("Search {}", q.get().trim())/>
        <section class="search-pane" aria-labelledby="search-heading" aria-busy=move || searching.get().to_string()>
            <header class="search-head">
                <a class="back" href="/" aria-label="Back to chats">"‹"</a>
                <h1 id="search-heading">{heading}</h1>
            </header>
            <Transition fallback=|| view! { <p class="loading">"Searching…"</p> } set_pending=searching>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(None) => EitherOf4::A(view! {
                            <p class="search-note">"Type words to find in your conversations. "
                                "Quotes find a phrase, "<code>"-word"</code>" leaves a word out, "
                                <code>"from:name"</code>" finds one person's messages."</p>
                        }),
                        Ok(Some(page)) if page.results.is_empty() => EitherOf4::B(view! {
                            <p class="search-note" data-testid="search-empty">
                                {format!("No messages match “{}”.", q.get_untracked().trim())}
                            </p>
                        }),
                        Ok(Some(page)) => EitherOf4::C(view! { <Hits page q=q.get_untracked()/> }),
                        Err(e) => EitherOf4::D(view! {
                            <p class="form-error" role="alert" data-testid="search-error">{e.message}</p>
                        }),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The results as links in a list, and "More results": a link to the next
/// page, which hydrated adds the next page here instead.
#[component]
fn Hits(page: SearchPage, q: String) -> impl IntoView {
    let shown = RwSignal::new(page.results);
    let next = RwSignal::new(page.next_cursor);
    let loading = RwSignal::new(false);
    let more_href = {
        let q = q.clone();
        move || next.with(|n| n.as_deref().map(|c| page_url(&q, Some(c))))
    };
    let more = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        let Some(cursor) = next.get_untracked() else {
            return;
        };
        if loading.get_untracked() {
            return;
        }
        loading.set(true);
        let q = q.clone();
        leptos::task::spawn_local(async move {
            if let Ok(page) = search_messages(q, None, Some(cursor)).await {
                shown.update(|s| s.extend(page.results));
                next.set(page.next_cursor);
            }
            loading.set(false);
        });
    };
    view! {
        <ol class="search-results" id="search-results" data-testid="search-results" on:keydown=arrows>
            <For each=move || shown.get() key=|hit| hit.message_id.clone() let:hit>
                <Hit hit/>
            </For>
        </ol>
        {move || more_href().map(|href| view! {
            <a class="button subtle more-results" href=href on:click=more.clone()>
                {move || if loading.get() { "Loading…" } else { "More results" }}
            </a>
        })}
    }
}

/// ArrowDown / ArrowUp move between the results' links; ArrowUp on the
/// first goes back to the search box.
fn arrows(ev: KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let down = match ev.key().as_str() {
            "ArrowDown" => true,
            "ArrowUp" => false,
            _ => return,
        };
        let Some(item) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("li").ok().flatten())
        else {
            return;
        };
        let sibling = if down {
            item.next_element_sibling()
        } else {
            item.previous_element_sibling()
        };
        let target = match sibling {
            Some(s) => s.query_selector("a").ok().flatten(),
            None if !down => document().get_element_by_id("search-q"),
            None => None,
        };
        if let Some(link) = target.and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok()) {
            ev.prevent_default();
            let _ = link.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let when = move || {
        let (hydrated, now) = (store.hydrated.get(), store.now_ms.get());
        let offset = time::offset_minutes(hit.timestamp, hydrated);
        let today = time::day_number(now, time::offset_minutes(now, hydrated));
        let day = time::day_label(time::day_number(hit.timestamp, offset), today);
        format!("{day}, {}", time::clock(hit.timestamp, offset))
    };
    let (href, place) = (result_url(&hit), place(&hit));
    view! {
        <li class="search-hit">
            <a href=href data-testid="search-hit">
                <span class="hit-head">
                    <span class="hit-place">{place}</span>
                    <time datetime=time::iso(hit.timestamp)>{when}</time>
                </span>
                <span class="hit-sender">{hit.sender_name}</span>
                <span class="hit-snippet">{snippet(hit.snippet)}</span>
            </a>
        </li>
    }
}

/// The snippet as text, the matched words in `<mark>` (never as HTML).
fn snippet(pieces: Vec<SnippetPiece>) -> impl IntoView {
    pieces
        .into_iter()
        .map(|piece| {
            if piece.hit {
                leptos::either::Either::Left(view! { <mark>{piece.text}</mark> })
            } else {
                leptos::either::Either::Right(piece.text)
            }
        })
        .collect_view()
}
