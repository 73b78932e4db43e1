//! Bodies of the REST API and of the server functions behind the pages.

use super::ids::{ConversationId, MessageId, UserId};
use serde::{Deserialize, Serialize};

/// A person as others see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub user_id: UserId,
    pub username: String,
}

/// `POST /api/v1/auth/register` and `/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The answer to a successful register or login. `token` is the session,
/// usable as `Authorization: Bearer`; the same session is also set as the
/// cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user_id: UserId,
    pub username: String,
    pub token: String,
}

/// `GET /api/v1/users?q=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserSummary>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Group,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
        }
    }
}

/// `POST /api/v1/conversations`: one other participant makes (or finds) the
/// direct chat, two or more make a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConversation {
    pub participants: Vec<UserId>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub conversation_id: ConversationId,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub participants: Vec<UserSummary>,
}

/// One message of a history page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryMessage {
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub content: String,
    pub timestamp: i64,
}

/// `GET /api/v1/chat/:conversation_id`: newest first; `next_cursor` names the
/// oldest message of this page, or is null when nothing older is left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub conversation_id: ConversationId,
    pub messages: Vec<HistoryMessage>,
    pub next_cursor: Option<MessageId>,
}

/// One row of the inbox. The first four fields are the spec's; the rest are
/// what the web UI needs to draw the row without another request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub conversation_id: ConversationId,
    /// The other person of a direct chat; null for groups.
    pub participant: Option<UserId>,
    pub last_message: Option<String>,
    /// The last message's timestamp, or the conversation's creation time
    /// while it is empty (ms since the epoch).
    pub timestamp: i64,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub participants: Vec<UserSummary>,
    pub participant_name: Option<String>,
    pub last_sender_id: Option<UserId>,
    pub last_message_id: Option<MessageId>,
    pub unread_count: i64,
}

/// `GET /api/v1/chats/:user_id`, most recent activity first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub chats: Vec<InboxEntry>,
}
