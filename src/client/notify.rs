//! Browser notifications and the tab's icon: what the sidebar's bell turns
//! on (asked for only when the person presses it, never on load; the
//! choice kept per browser), the notification a message raises, and the
//! unread count drawn on the favicon. Small on purpose: every page of the
//! signed-in app loads it.

use crate::model::unread::Notice;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// `localStorage` key: "on" while the person wants notifications here.
const KEY: &str = "natter.notifications";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether this browser can show notifications at all.
pub(crate) fn supported() -> bool {
    web_sys::window()
        .is_some_and(|w| js_sys::Reflect::has(&w, &"Notification".into()).unwrap_or(false))
}

fn granted() -> bool {
    supported() && Notification::permission() == NotificationPermission::Granted
}

/// The browser refuses them (the person said no, here or in its settings).
pub(crate) fn denied() -> bool {
    supported() && Notification::permission() == NotificationPermission::Denied
}

/// On: wanted, and allowed by the browser.
pub(crate) fn enabled() -> bool {
    granted()
        && storage()
            .and_then(|s| s.get_item(KEY).ok().flatten())
            .as_deref()
            == Some("on")
}

fn remember(on: bool) {
    if let Some(storage) = storage() {
        let _ = if on {
            storage.set_item(KEY, "on")
        } else {
            storage.remove_item(KEY)
        };
    }
}

/// The bell was pressed: off if on; else on, asking the browser's
/// permission first if it was never given. `done` hears whether they are
/// now on.
pub(crate) fn toggle(done: impl FnOnce(bool) + 'static) {
    if enabled() {
        remember(false);
        return done(false);
    }
    if granted() {
        remember(true);
        return done(true);
    }
    if !supported() || denied() {
        return done(false);
    }
    let answered = Closure::once_into_js(move |answer: String| {
        let on = answer == "granted";
        remember(on);
        done(on);
    });
    if Notification::request_permission_with_permission_callback(answered.unchecked_ref()).is_err()
    {
        remember(false);
    }
}

/// Raises `notice`, if notifications are on. Clicking it brings this tab
/// forward and opens the conversation (through its inbox link, so the
/// page does not load again; by address when the link is not listed).
pub(crate) fn show(notice: Notice) {
    if !enabled() {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(&notice.body);
    // One per conversation: a newer message replaces the older notice.
    options.set_tag(&notice.conversation.to_string());
    let Ok(shown) = Notification::new_with_options(&notice.title, &options) else {
        return;
    };
    let conversation = notice.conversation.to_string();
    let this = shown.clone();
    let click = Closure::once_into_js(move || {
        let Some(window) = web_sys::window() else {
            return;
        };
        let _ = window.focus();
        this.close();
        let link = window.document().and_then(|d| {
            d.query_selector(&format!("a[data-conversation-id=\"{conversation}\"]"))
                .ok()
                .flatten()
        });
        match link.and_then(|l| l.dyn_into::<web_sys::HtmlElement>().ok()) {
            Some(link) => link.click(),
            None => {
                let _ = window.location().set_href(&format!("/c/{conversation}"));
            }
        }
    });
    shown.set_onclick(Some(click.unchecked_ref()));
}

/// Draws `count` on the tab's icon (the plain icon at 0).
pub(crate) fn favicon(count: i64) {
    let Some(link) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("link[rel=icon]").ok().flatten())
    else {
        return;
    };
    let href = if count > 0 {
        badged_icon(count)
    } else {
        "/favicon.svg".to_owned()
    };
    let _ = link.set_attribute("href", &href);
}

/// natter's icon with a red badge holding the count ("9+" past nine), as
/// an SVG data URL.
fn badged_icon(count: i64) -> String {
    let label = if count > 9 {
        "9+".to_owned()
    } else {
        count.to_string()
    };
    let size = if count > 9 { 22 } else { 28 };
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'>\
         <rect width='64' height='64' rx='16' fill='#3a5bd9'/>\
         <path d='M20 46V18h7l11 17V18h7v28h-7L27 29v17z' fill='#fff'/>\
         <circle cx='46' cy='18' r='18' fill='#e0245e'/>\
         <text x='46' y='18' dy='.35em' text-anchor='middle' font-family='sans-serif' \
         font-weight='700' font-size='{size}' fill='#fff'>{label}</text></svg>"
    );
    format!("data:image/svg+xml,{}", js_sys::encode_uri_component(&svg))
}

/// Wires the sidebar's controls (`components::unread_controls`): shows the
/// row, "Mark all as read" only while `any_unread`, and the bell's state.
/// Called again whenever `any_unread` changes; the clicks are wired once.
pub(crate) fn wire(bar: &web_sys::HtmlDivElement, any_unread: bool, mark_all: impl Fn() + 'static) {
    let (Some(mark), Some(bell)) = (bar.first_element_child(), bar.last_element_child()) else {
        return;
    };
    let _ = mark.toggle_attribute_with_force("hidden", !any_unread);
    if bar.has_attribute("data-wired") {
        return;
    }
    let _ = bar.set_attribute("data-wired", "");
    let _ = bar.remove_attribute("hidden");
    show_bell(&bell, enabled());
    let on_mark = Closure::<dyn Fn()>::new(mark_all);
    let _ = mark.add_event_listener_with_callback("click", on_mark.as_ref().unchecked_ref());
    on_mark.forget();
    let target = bell.clone();
    let on_bell = Closure::<dyn Fn()>::new(move || {
        let target = target.clone();
        toggle(move |on| show_bell(&target, on));
    });
    let _ = bell.add_event_listener_with_callback("click", on_bell.as_ref().unchecked_ref());
    on_bell.forget();
}

/// The bell says whether notifications are on (and why not, when the
/// browser blocks them).
fn show_bell(bell: &web_sys::Element, on: bool) {
    let label = if denied() {
        "Notifications are blocked in this browser's settings"
    } else if on {
        "Notifications on: click to turn them off"
    } else {
        "Notifications off: click to turn them on"
    };
    let _ = bell.set_attribute("aria-pressed", if on { "true" } else { "false" });
    let _ = bell.set_attribute("title", label);
    let _ = bell.set_attribute("aria-label", label);
}
