//! The chat service's answers, one wording per case (docs/protocol.md 4.3).

use crate::protocol::{ApiError, ErrorCode};

pub(crate) fn not_the_sender() -> ApiError {
    ApiError::forbidden("sender_id is not the signed-in user")
}

pub(crate) fn not_a_member() -> ApiError {
    ApiError::forbidden("you are not a participant of this conversation")
}

pub(crate) fn blocked() -> ApiError {
    ApiError::forbidden("one of you has blocked the other; nothing can be sent here")
}

pub(crate) fn no_conversation() -> ApiError {
    ApiError::not_found("no such conversation")
}

pub(crate) fn no_such_message() -> ApiError {
    ApiError::not_found("no such message in this conversation")
}

/// A reply to a message that is not in the conversation.
pub(crate) fn no_reply_target() -> ApiError {
    ApiError::invalid("reply_to", "reply_to is not a message of this conversation")
}

pub(crate) fn database_unavailable() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "the database is unavailable right now; nothing was stored, retry",
    )
}

/// A read or a marker the database could not take (nothing to undo).
pub(crate) fn database_busy() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "the database is unavailable right now; retry",
    )
}

pub(crate) fn shutting_down() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "the server is shutting down; nothing was stored, retry",
    )
}

pub(crate) fn id_taken() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "this message_id is already used by a different message; use a new id for new content",
    )
}

pub(crate) fn action_id_taken() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "this action_id is already used by a different action; use a new id",
    )
}

pub(crate) fn not_the_author() -> ApiError {
    ApiError::forbidden("only the author can edit or delete a message")
}

pub(crate) fn message_deleted() -> ApiError {
    ApiError::new(ErrorCode::Conflict, "this message was deleted")
}

pub(crate) fn no_such_attachment() -> ApiError {
    ApiError {
        field: Some("attachments".into()),
        ..ApiError::not_found("no such attachment: upload it again")
    }
}

pub(crate) fn attachment_sent() -> ApiError {
    ApiError {
        field: Some("attachments".into()),
        ..ApiError::new(
            ErrorCode::Conflict,
            "an attachment was already sent with another message",
        )
    }
}

pub(crate) fn too_many_reactions() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        format!(
            "a message takes at most {} different reactions",
            crate::protocol::MAX_REACTIONS_PER_MESSAGE
        ),
    )
}
