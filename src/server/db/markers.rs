//! Each member's markers in a conversation: how far they have read, and how
//! far has reached one of their devices. A marker only moves forward, and
//! reading implies delivery (a read moves both).

use crate::protocol::{ConversationId, MessageId, UserId};
use sqlx::PgExecutor;

/// Which marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    Read,
    Delivered,
}

/// The outcome of moving a marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marked {
    /// The marker moved forward to this message, and this many messages
    /// follow it.
    Moved { unread: i64 },
    /// It was already at or past it (a marker never moves backwards).
    Unchanged,
    /// No such message in this conversation.
    UnknownMessage,
}

/// Moves `user`'s `marker` in `conversation` to `message`, if that is
/// further: one statement, the message found by its id.
pub(crate) async fn mark(
    db: impl PgExecutor<'_>,
    marker: Marker,
    conversation: ConversationId,
    user: UserId,
    message: &MessageId,
) -> sqlx::Result<Marked> {
    // One statement for both: reading moves both markers; delivery only
    // the delivered one, and only past the read marker.
    let row = sqlx::query!(
        r#"WITH found AS MATERIALIZED (
             SELECT conversation_id, seq FROM messages WHERE message_id = $2),
         target AS (SELECT seq FROM found WHERE conversation_id = $1),
         moved AS (
             UPDATE participants p
             SET read_seq = CASE WHEN $4 THEN t.seq ELSE p.read_seq END,
                 delivered_seq = GREATEST(p.delivered_seq, t.seq)
             FROM target t, conversations c
             WHERE p.conversation_id = $1 AND p.user_id = $3 AND p.read_seq < t.seq
               AND ($4 OR p.delivered_seq < t.seq) AND c.id = $1
             RETURNING c.last_seq - t.seq AS unread)
         SELECT (SELECT seq FROM target) AS "target?", (SELECT unread FROM moved) AS "unread?""#,
        conversation as ConversationId,
        message as &MessageId,
        user as UserId,
        marker == Marker::Read,
    )
    .fetch_one(db)
    .await?;
    Ok(match (row.target, row.unread) {
        (None, _) => Marked::UnknownMessage,
        (Some(_), Some(unread)) => Marked::Moved { unread },
        (Some(_), None) => Marked::Unchanged,
    })
}

/// Each current member's markers in `conversation`, as the messages they
/// point at (none while at the start).
pub(crate) async fn of_members(
    db: impl PgExecutor<'_>,
    conversation: ConversationId,
) -> sqlx::Result<Vec<crate::protocol::MemberMarkers>> {
    sqlx::query_as!(
        crate::protocol::MemberMarkers,
        r#"SELECT p.user_id AS "user_id: UserId",
                  d.message_id AS "delivered?: MessageId",
                  r.message_id AS "read?: MessageId"
           FROM participants p
           LEFT JOIN messages d ON d.conversation_id = p.conversation_id
               AND d.seq = GREATEST(p.delivered_seq, p.read_seq)
           LEFT JOIN messages r ON r.conversation_id = p.conversation_id AND r.seq = p.read_seq
           WHERE p.conversation_id = $1 AND p.left_at IS NULL
           ORDER BY p.user_id"#,
        conversation as ConversationId,
    )
    .fetch_all(db)
    .await
}
