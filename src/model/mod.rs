//! The browser's chat state as plain data: the open conversation's timeline,
//! the inbox list, the outbox of unacknowledged sends and the reconnect
//! backoff. Pure logic with no browser APIs, so it renders on the server,
//! runs in the browser and is unit-tested natively.

pub mod backoff;
pub mod inbox;
pub mod outbox;
pub mod timeline;
