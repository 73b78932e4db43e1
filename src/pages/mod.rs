//! One module per route.

mod auth;
mod chat;
mod not_found;

pub use auth::{LoginPage, RegisterPage};
pub use chat::{ChatLayout, ConversationPane, NoConversation};
pub use not_found::{NotFound, NotFoundPage};
