//! The browser's chat state as plain data: the chat as a whole (`chat`), the
//! open conversation's timeline, the inbox list, the outbox of
//! unacknowledged sends with each one's retry schedule, the reconnect
//! backoff, and how times are shown. Pure logic with no browser APIs, so it
//! renders on the server, runs in the browser and is unit-tested natively.

pub mod backoff;
pub mod chat;
pub mod inbox;
pub mod outbox;
pub mod time;
pub mod timeline;
