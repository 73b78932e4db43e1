//! natter's integration tests, one binary: every module talks to a real
//! PostgreSQL (a private cluster, a fresh database per test) and to a real
//! server over HTTP and WebSocket. One binary rather than one per file
//! because each link of natter with full dependencies costs time and disk.

// Tests panic on anything unexpected; that is their job.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../support/mod.rs"]
mod support;

mod accounts;
mod actions;
mod attachment_limits;
mod attachment_stores;
mod attachments;
mod budgets;
mod changes;
mod conversations;
mod crash;
mod db_restart;
mod edits;
mod fuzz_frames;
mod groups;
mod guards;
mod history;
mod history_both_ways;
mod inbox;
mod multinode;
mod mute;
mod presence;
mod private_db;
mod search;
mod search_index;
mod search_pages;
mod sessions;
mod shutdown;
mod site;
mod slow_clients;
mod startup;
mod typing;
mod ws_connection;
mod ws_errors;
mod ws_send;
mod ws_send_pipelined;
