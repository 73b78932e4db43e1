//! Replies, edits, deletions and reactions on the wire: what a client
//! asks for (each with its own `action_id`), what the asking connection is
//! answered, and what every member is told.

use super::ids::{ConversationId, MessageId, UserId};
use super::validate::{Content, Emoji};
use serde::{Deserialize, Serialize};

/// The message a reply answers, as it is now: who wrote it and the start
/// of its text (at most [`QUOTE_CHARS`] characters), or no text once it
/// was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub text: Option<String>,
}

/// How much of a message a quote of it shows.
pub const QUOTE_CHARS: usize = 100;

/// `message.edit`, client → server: the author's new text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditPayload {
    /// Made by the client, the same for every retry of this edit.
    pub action_id: MessageId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    #[serde(deserialize_with = "super::validate::written_text")]
    pub content: Content,
}

/// `message.delete`, client → server: the author takes a message back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletePayload {
    pub action_id: MessageId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}

/// `reaction.add` and `reaction.remove`, client → server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionPayload {
    pub action_id: MessageId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub emoji: Emoji,
}

/// `action.ack`, server → the connection that asked, after the commit:
/// the change the action made, or null when it changed nothing (the
/// reaction was there already, the text was the same, the message was
/// deleted already). A retried `action_id` gets the first answer again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionAck {
    pub action_id: MessageId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub change: Option<i64>,
}

/// `message.edited`, server → every member: the message's text now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditedPayload {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub content: Content,
    /// When it was edited (the server's clock, ms since the epoch).
    pub edited_at: i64,
    pub change: i64,
}

/// `message.deleted`, server → every member: its text and reactions are
/// gone; it stays in its place as deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedPayload {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub change: i64,
}

/// `reaction.added` and `reaction.removed`, server → every member:
/// `user_id` put `emoji` on the message, or took it away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactedPayload {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub user_id: UserId,
    pub emoji: Emoji,
    pub change: i64,
}
