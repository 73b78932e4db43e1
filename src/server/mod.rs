//! Everything that runs only on the server (the `ssr` feature).

pub mod accounts;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversations;
pub mod db;
pub mod embedded_pg;
pub mod error;
pub mod guard;
pub mod rest;
pub mod router;
pub mod site;
pub mod startup;
pub mod state;
pub mod ws;
