//! One module per route.

mod auth;
mod chat;
mod not_found;

pub use auth::{LoginRoute, RegisterRoute};
pub use chat::{ChatRoute, ConversationRoute, NewChatRoute, NoConversation};
pub use not_found::{NotFound, NotFoundPage};
