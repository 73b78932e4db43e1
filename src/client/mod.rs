//! Browser-only code (the `hydrate` feature): the WebSocket connection that
//! keeps the chat state live, the outbox's storage, and file uploads.

pub(crate) mod notify;
pub(crate) mod socket;
pub(crate) mod storage;
pub(crate) mod upload;

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

/// Room for the bundle's splitter (`cargo leptos build --split`). It moves
/// each constant (the words of the pages, their markup) into the part of the
/// bundle whose code uses it, laying them out again part by part; if, with
/// the alignment each part starts at, they no longer fit in the space they
/// had, it gives up and leaves every constant in the first part, which
/// every page loads (about 6 KB more for the inbox, on a change of a few
/// bytes anywhere). This block is kept by the linker (`#[used]`) but read by
/// no code, so the splitter places it nowhere, and its space is the slack
/// that makes the constants always fit. (They lose at most one alignment,
/// 8 bytes, per part of the bundle to padding: under 200 bytes for the 17
/// parts there are. A fallback shows in `tests/bundle.spec.ts`.)
#[used]
static SPLIT_ROOM: [u8; 1024] = [0x5a; 1024];
