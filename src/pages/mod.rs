//! One module per route.

mod auth;
mod chat;
mod not_found;
mod search;

pub(crate) use auth::{LoginRoute, RegisterRoute};
pub(crate) use chat::{ChatRoute, ConversationRoute, NewChatRoute, NoConversation};
pub(crate) use not_found::{NotFound, NotFoundPage};
pub(crate) use search::SearchRoute;
