//! A conversation opened far back (at a search result), in the browser:
//! the view goes to that message, and newer pages load as the person
//! scrolls down, without moving what is on screen.

use crate::api::messages::load_history_window;
use crate::store::ChatStore;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Newer messages are fetched when the bottom is this close (px).
const PREFETCH: i32 = 600;

pub(super) fn on_scroll(store: ChatStore, loading: RwSignal<bool>, scroller: NodeRef<Div>) {
    // Column-reverse: `scrollTop` is 0 at the bottom, negative above it.
    if let Some(el) = scroller.try_get_untracked().flatten()
        && -el.scroll_top() < PREFETCH
    {
        load(store, loading, scroller);
    }
}

/// Fetches the next newer page, if there is one and none is on its way.
pub(super) fn load(store: ChatStore, loading: RwSignal<bool>, scroller: NodeRef<Div>) {
    if loading.try_get_untracked() != Some(false) {
        return;
    }
    let Some((conversation, cursor)) = store.with_untracked(|c| {
        let t = c.timeline.as_ref()?;
        Some((t.conversation_id, t.newer_cursor()?.clone()))
    }) else {
        return;
    };
    loading.set(true);
    spawn_local(async move {
        let window = load_history_window(conversation.to_string(), None, None, Some(cursor)).await;
        // The newest row shown stays where it is on screen: measured
        // before the page goes in below it and put back after (a no-op
        // where the browser's own scroll anchoring already did).
        let anchor = scroller.try_get_untracked().flatten().and_then(|el| {
            let last = el.query_selector(".message-rows > li:last-child").ok()??;
            let top = last.get_bounding_client_rect().top();
            Some((el, last, top))
        });
        if let Ok(window) = window {
            store.newer_page(window);
        }
        // (Everything below may be gone by then: the person went elsewhere.)
        request_animation_frame(move || {
            if let Some((el, last, before)) = anchor {
                let moved = last.get_bounding_client_rect().top() - before;
                el.set_scroll_top(el.scroll_top() + moved.round() as i32);
            }
            loading.try_set(false);
        });
    });
}

/// Where a row is brought to in the view.
#[derive(Clone, Copy)]
pub(super) enum At {
    /// A third of the way down (a message opened at).
    Third,
    /// This many pixels below the top (the "New messages" line).
    Top(i32),
}

/// Once rendered, the row `selector` finds (if any) is brought into view.
pub(super) fn go_to(scroller: NodeRef<Div>, selector: String, at: At) {
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        if scroller.get().is_none() {
            return false;
        }
        // After the page is in the document: opened in place (from the
        // inbox, or a result followed in the page), the list is built
        // before it is attached.
        bring_into_view(scroller, selector.clone(), at, 20);
        true
    });
}

fn bring_into_view(scroller: NodeRef<Div>, selector: String, at: At, tries: u32) {
    request_animation_frame(move || {
        // Gone (the person went elsewhere), or not attached yet.
        let Some(el) = scroller.try_get_untracked().flatten() else {
            return;
        };
        if !el.is_connected() || el.client_height() == 0 {
            if tries > 0 {
                bring_into_view(scroller, selector, at, tries - 1);
            }
            return;
        }
        if let Ok(Some(row)) = el.query_selector(&selector) {
            let offset = row.get_bounding_client_rect().top() - el.get_bounding_client_rect().top();
            let wanted = match at {
                At::Third => f64::from(el.client_height()) / 3.0,
                At::Top(margin) => f64::from(margin),
            };
            el.set_scroll_top(el.scroll_top() + (offset - wanted).round() as i32);
        }
    });
}
