//! natter: a real-time web chat.
//!
//! `protocol` is the wire contract both sides share; `model` is the
//! browser's chat state as plain data and `store` holds it for the
//! components; `app`, `pages` and `components` render on the server and
//! hydrate in the browser; `api` holds the server functions behind the
//! pages; `server` (feature `ssr`) and `client` (feature `hydrate`) are each
//! side's own code.

#![recursion_limit = "256"]

pub(crate) mod api;
pub(crate) mod app;
pub(crate) mod components;
pub mod model;
pub(crate) mod pages;
pub mod protocol;
pub(crate) mod store;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
pub(crate) mod client;

/// The browser's entry point: hydrate the server-rendered page. Routes load
/// their part of the bundle (`#[lazy_route]`) before they hydrate, so
/// hydration finishes asynchronously.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Already running is fine: it means it was started before.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // Hydration went through without a mismatch (one panics): tell tests
        // (and CSS) that the WebAssembly bundle has taken over.
        let _ = body.set_attribute("data-hydrated", "");
    });
}
