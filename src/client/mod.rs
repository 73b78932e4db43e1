//! Browser-only code (the `hydrate` feature): the WebSocket connection that
//! keeps the chat state live, and the outbox's storage.

pub(crate) mod socket;
pub(crate) mod storage;

use leptos::prelude::*;

/// Milliseconds since the epoch by the browser's clock.
pub(crate) fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: u32) {
    let (done, wait) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        std::time::Duration::from_millis(u64::from(ms)),
    );
    let _ = wait.await;
}

/// True while the page is shown (not a background tab).
pub(crate) fn page_visible() -> bool {
    !document().hidden()
}
