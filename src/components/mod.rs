//! Pieces of the chat pages.

pub(crate) mod announcer;
pub(crate) mod attachments;
pub(crate) mod avatar;
pub(crate) mod composer;
pub(crate) mod connection_badge;
pub(crate) mod inbox_list;
pub(crate) mod mention_picker;
pub(crate) mod message;
pub(crate) mod message_list;
pub(crate) mod new_chat;
pub(crate) mod rich_text;
pub(crate) mod search_box;
pub(crate) mod unread_controls;
pub(crate) mod uploads;
