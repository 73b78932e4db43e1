//! A round initial, coloured by name so the same person always looks the same.

use leptos::prelude::*;

/// One of twelve hues, derived from `name` (a class rather than an inline
/// style, so the Content-Security-Policy needs no 'unsafe-inline').
pub(crate) fn hue(name: &str) -> u32 {
    name.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    }) % 12
}

/// `c` in upper case, as `char::to_uppercase` gives it (`ß` is `SS`).
#[cfg(not(feature = "hydrate"))]
fn upper_case(c: char) -> String {
    c.to_uppercase().to_string()
}

/// In the browser, the JavaScript engine's `toUpperCase`: the same full,
/// locale-free Unicode mapping, without the 12 KB case table Rust's would
/// add to the bundle every page loads.
#[cfg(feature = "hydrate")]
fn upper_case(c: char) -> String {
    js_sys::JsString::from(c).to_upper_case().into()
}

/// The first letter or digit of `name`, as `char::is_alphanumeric` finds
/// it (Unicode's Alphabetic or Number).
#[cfg(not(feature = "hydrate"))]
fn first_alphanumeric(name: &str) -> Option<char> {
    name.chars().find(|c| c.is_alphanumeric())
}

/// In the browser, the JavaScript engine's Unicode properties (the same
/// two), without Rust's tables in the bundle every page loads.
#[cfg(feature = "hydrate")]
fn first_alphanumeric(name: &str) -> Option<char> {
    let pattern = js_sys::RegExp::new(r"[\p{Alphabetic}\p{N}]", "u");
    pattern.exec(name)?.get(0).as_string()?.chars().next()
}

/// `online`: for a person whose presence is followed, a dot that is green
/// while they are online (`data-online` says which, for tests and styles).
#[component]
pub(crate) fn Avatar(
    #[prop(into)] name: String,
    #[prop(optional)] group: bool,
    #[prop(default = None)] online: Option<Signal<bool>>,
) -> impl IntoView {
    let initial = first_alphanumeric(&name)
        .map(upper_case)
        .unwrap_or_else(|| "?".into());
    // One class string, not `class=` beside `class:` toggles: an element
    // made in the browser (a row added after hydration) applied `class=`
    // last and lost the toggled ones.
    let class = format!(
        "avatar hue-{}{}{}",
        hue(&name),
        if group { " group" } else { "" },
        if online.is_some() { " followed" } else { "" }
    );
    let presence = move || online.map(|o| if o.get() { "true" } else { "false" });
    view! {
        <span class=class data-online=presence aria-hidden="true">
            {initial}
        </span>
    }
}
