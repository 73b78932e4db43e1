//! Searching as one types, in the browser. A quarter of a second after the
//! last key (or at once on Enter) the page goes to `/search?q=<text>` in
//! place; the first search adds one history entry (Back returns to where
//! it began), refining it replaces that entry.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};
use std::cell::RefCell;
use std::time::Duration;
use wasm_bindgen::JsCast;

/// What the box asks for.
pub(super) enum Ask {
    /// A key changed the text.
    Typed,
    /// Enter: search now.
    Now,
    /// ArrowDown: to the first result.
    Down,
    /// Escape: close the results.
    Close,
}

/// How long after the last key the results are asked for.
const QUIET: Duration = Duration::from_millis(250);

thread_local! {
    /// The search waiting for the typing to pause.
    static PENDING: RefCell<Option<TimeoutHandle>> = const { RefCell::new(None) };
}

/// Does what the box asks, in its owner (the router is found through it).
pub(super) fn answer(ask: Ask) {
    let Some(owner) = Owner::current() else {
        return;
    };
    match ask {
        Ask::Typed => {
            cancel();
            let handle = set_timeout_with_handle(move || search(&owner), QUIET);
            PENDING.with(|p| *p.borrow_mut() = handle.ok());
        }
        Ask::Now => search(&owner),
        Ask::Down => {
            if let Some(first) = element("#search-results a") {
                let _ = first.focus();
            }
        }
        Ask::Close => {
            cancel();
            if let Some(input) = search_box() {
                input.set_value("");
            }
            if on_results(&owner) {
                go(&owner, "/", false);
            }
        }
    }
}

/// The results for the box's text, now.
fn search(owner: &Owner) {
    cancel();
    let text = search_box().map(|input| input.value()).unwrap_or_default();
    // Emptied: the results close (Back still returns to them).
    if text.trim().is_empty() {
        if on_results(owner) {
            go(owner, "/", false);
        }
        return;
    }
    let url = crate::model::search::page_url(&text, None);
    // The results for this text are the ones showing.
    let showing = owner.with(|| {
        let here = use_location();
        here.pathname
            .with_untracked(|p| here.search.with_untracked(|s| format!("{p}?{s}") == url))
    });
    if showing {
        return;
    }
    go(owner, &url, results_in_history());
}

fn cancel() {
    if let Some(handle) = PENDING.with(|p| p.borrow_mut().take()) {
        handle.clear();
    }
}

/// Whether the results page is showing, as the router knows it. (Back
/// past a refined search relies on .vendor/leptos_router's fix: see its
/// PATCHED.md.)
fn on_results(owner: &Owner) -> bool {
    owner.with(|| use_location().pathname.with_untracked(|p| p == "/search"))
}

/// Whether the browser's current history entry is a results page. Not
/// the router's location: that moves as soon as a navigation starts, while
/// the entry is pushed only once the results have loaded. A refinement
/// typed in between must push too (the router then drops the first, never
/// pushed); replacing would overwrite the page the search began on.
fn results_in_history() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p == "/search")
}

fn go(owner: &Owner, url: &str, replace: bool) {
    let navigate = owner.with(use_navigate);
    let options = NavigateOptions {
        replace,
        scroll: false,
        ..Default::default()
    };
    navigate(url, options);
}

fn search_box() -> Option<web_sys::HtmlInputElement> {
    element("#search-q").and_then(|el| el.dyn_into().ok())
}

fn element(selector: &str) -> Option<web_sys::HtmlElement> {
    document()
        .query_selector(selector)
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
}
