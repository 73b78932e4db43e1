//! Server functions behind the pages, by resource. Thin: they take the state
//! and the request from context and call the same operations as the JSON API
//! (`server::accounts`, `server::conversations`), so there is one copy of
//! each rule and each query.

pub(crate) mod accounts;
pub(crate) mod conversations;
pub(crate) mod messages;
pub(crate) mod search;

#[cfg(feature = "ssr")]
mod context;
pub(crate) mod encoding;
