//! What is said of people rather than of messages (docs/protocol.md 2.16,
//! 2.17, 2.18): presence, typing, leaving. Never stored as messages.

use super::ids::{ConversationId, UserId};
use serde::{Deserialize, Serialize};

/// `presence.subscribe`, client → server: the people whose presence this
/// connection wants (replacing any earlier list; at most
/// [`MAX_PRESENCE_SUBSCRIPTION`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceSubscription {
    pub user_ids: Vec<UserId>,
}

/// People one connection may follow at once.
pub const MAX_PRESENCE_SUBSCRIPTION: usize = 500;

/// One person's presence, server → client: `presence` when it changes,
/// and each of the `people` of `presence.state`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresencePayload {
    pub user_id: UserId,
    /// At least one open connection, on any node.
    pub online: bool,
    /// When they were last online (ms since the epoch); null while online,
    /// or if never seen.
    pub last_seen: Option<i64>,
}

/// `presence.state`, server → the subscribing connection: the present
/// state of each person it may follow, in the order asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceList {
    pub people: Vec<PresencePayload>,
}

/// `typing` and `typing.stop`, client → server: I am typing in this
/// conversation (again at most every 3 s while it lasts), or I stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingNotice {
    pub conversation_id: ConversationId,
}

/// Someone in a conversation, server → client: `conversation.left` (every
/// connection of the group's members and of the one who left: `user_id`
/// is no longer in it), `typing` and `typing.stop` (the connections of the
/// other members: `user_id` is, or no longer is, typing in it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPayload {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
}

/// `conversation.muted`, server → every connection of the user who muted
/// or unmuted the conversation (docs/protocol.md 2.22): their other tabs
/// follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutePayload {
    pub conversation_id: ConversationId,
    pub muted: bool,
}
