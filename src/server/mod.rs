//! Everything that runs only on the server (the `ssr` feature).

pub(crate) mod accounts;
pub mod attachments;
pub(crate) mod auth;
pub mod chat;
pub mod cli;
pub(crate) mod clock;
pub mod config;
pub(crate) mod conversations;
pub(crate) mod db;
pub mod embedded_pg;
pub(crate) mod error;
pub(crate) mod guard;
pub(crate) mod hashing;
pub(crate) mod http;
pub mod limits;
pub(crate) mod rest;
pub(crate) mod router;
pub(crate) mod search;
pub(crate) mod session_sweep;
pub(crate) mod site;
pub mod startup;
pub mod state;
pub(crate) mod ws;
