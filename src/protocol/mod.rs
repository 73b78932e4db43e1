//! The wire contract shared by the server and the browser: ids, WebSocket
//! events, REST bodies and the error type. Serde only, so it compiles for
//! wasm32 as well as for the server.

mod actions;
mod attachments;
mod dto;
mod error;
mod events;
mod ids;
mod search;
mod signals;
mod validate;

pub use actions::*;
pub use attachments::*;
pub use dto::*;
pub use error::{ApiError, ErrorCode};
pub use events::*;
pub use ids::{AttachmentId, ConversationId, InvalidId, MessageId, UserId};
pub use search::*;
pub use signals::*;
pub use validate::{
    Content, Emoji, Invalid, MAX_CONTENT_CHARS, MAX_REACTIONS_PER_MESSAGE, PASSWORD_MAX,
    PASSWORD_MIN, Password, REACTIONS, TITLE_MAX, Title, USERNAME_MAX, USERNAME_MIN, Username,
};
