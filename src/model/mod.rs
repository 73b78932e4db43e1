//! The browser's chat state as plain data: the chat as a whole (`chat`), the
//! open conversation's timeline, the inbox list, the outbox of
//! unacknowledged sends with each one's retry schedule, the reconnect
//! backoff, who is typing, who is online, the ticks, and how times are shown. Pure logic with no browser APIs, so it
//! renders on the server, runs in the browser and is unit-tested natively.

// The browser drives most of this; the server's build uses only what
// rendering needs, so dead code here is the browser build's to find
// (`cargo clippy --features hydrate`, in CI).
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

pub(crate) mod backoff;
pub(crate) mod chat;
pub(crate) mod inbox;
pub(crate) mod markup;
pub(crate) mod mention_pick;
pub mod outbox;
pub(crate) mod presence;
pub(crate) mod receipts;
pub(crate) mod search;
pub(crate) mod time;
pub(crate) mod timeline;
pub(crate) mod typing;
pub(crate) mod unread;
pub(crate) mod uploads;
