//! Pieces of the chat pages.

pub mod avatar;
pub mod composer;
pub mod connection_badge;
pub mod inbox_list;
pub mod message_list;
pub mod new_chat;
