//! Attachments: what natter knows of each uploaded file (its bytes are in
//! the object store), who may fetch it, and its claim by the one message it
//! is sent with.

use crate::protocol::{Attachment, AttachmentId, ConversationId, MessageId, UserId};
use sqlx::PgExecutor;

/// Records a file whose bytes are stored.
pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    file: &Attachment,
    conversation: ConversationId,
    uploader: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO attachments (id, conversation_id, uploader, name, content_type, size, width, height)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        file.attachment_id as AttachmentId,
        conversation as ConversationId,
        uploader as UserId,
        file.name,
        file.content_type,
        i64::try_from(file.size).unwrap_or(i64::MAX),
        file.width.map(|w| w as i32),
        file.height.map(|h| h as i32),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Bytes `user` uploaded over the last 24 hours (files since swept
/// included only while their rows last; a sent file's row lasts).
pub(crate) async fn uploaded_today(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<u64> {
    let total = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(size), 0)::int8 AS "total!" FROM attachments
           WHERE uploader = $1 AND created_at > now() - interval '24 hours'"#,
        user as UserId,
    )
    .fetch_one(db)
    .await?;
    Ok(u64::try_from(total).unwrap_or(0))
}

/// How a send's claim on its files went.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// All of them are the message's now (or were already: a retry), in the
    /// order named.
    Claimed(Vec<Attachment>),
    /// One of them is not an upload of the sender's to this conversation
    /// (or was swept).
    Missing,
    /// One of them was sent with another message.
    Taken,
}

/// Makes `ids` the files of message `message_id` of `sender` in
/// `conversation`, all or none, in one statement: each must be the
/// sender's upload to this conversation, not claimed by another message.
pub(crate) async fn claim(
    db: impl PgExecutor<'_>,
    ids: &[AttachmentId],
    sender: UserId,
    conversation: ConversationId,
    message_id: &MessageId,
) -> sqlx::Result<Claim> {
    let rows = sqlx::query!(
        r#"WITH wanted AS (
               SELECT * FROM unnest($1::uuid[]) WITH ORDINALITY AS w(id, ord)),
           found AS (
               SELECT a.id, w.ord, a.message_id IS NULL OR a.message_id = $4 AS free
               FROM wanted w JOIN attachments a ON a.id = w.id
               WHERE a.uploader = $2 AND a.conversation_id = $3
               FOR UPDATE OF a),
           claimed AS (
               UPDATE attachments a
               SET message_id = $4, position = f.ord, claimed_at = coalesce(a.claimed_at, now())
               FROM found f
               WHERE a.id = f.id
                 AND (SELECT count(*) FILTER (WHERE free) FROM found) = cardinality($1::uuid[])
               RETURNING a.id, a.name, a.size, a.content_type, a.width, a.height, f.ord)
           SELECT c.id AS "id?: AttachmentId", c.name AS "name?", c.size AS "size?",
                  c.content_type AS "content_type?", c.width, c.height, c.ord AS "ord?",
                  (SELECT count(*) FROM found) AS "found!",
                  (SELECT count(*) FILTER (WHERE free) FROM found) AS "free!"
           FROM (SELECT 1) one LEFT JOIN claimed c ON true
           ORDER BY c.ord"#,
        ids as &[AttachmentId],
        sender as UserId,
        conversation as ConversationId,
        message_id as &MessageId,
    )
    .fetch_all(db)
    .await?;
    let wanted = ids.len() as i64;
    let Some(first) = rows.first() else {
        return Ok(Claim::Missing);
    };
    if first.found < wanted {
        return Ok(Claim::Missing);
    }
    if first.free < wanted {
        return Ok(Claim::Taken);
    }
    Ok(Claim::Claimed(
        rows.into_iter()
            .filter_map(|r| {
                Some(Attachment {
                    attachment_id: r.id?,
                    name: r.name?,
                    size: u64::try_from(r.size?).unwrap_or(0),
                    content_type: r.content_type?,
                    width: r.width.map(|w| w as u32),
                    height: r.height.map(|h| h as u32),
                })
            })
            .collect(),
    ))
}

/// The file `id` if `reader` may fetch it: a member of its conversation
/// once it is sent (its message stored), and its uploader at any time.
/// (A member who left the group has no longer.)
pub(crate) async fn readable(
    db: impl PgExecutor<'_>,
    id: AttachmentId,
    reader: UserId,
) -> sqlx::Result<Option<Attachment>> {
    let row = sqlx::query!(
        r#"SELECT a.name, a.size, a.content_type, a.width, a.height
           FROM attachments a
           WHERE a.id = $1
             AND (a.uploader = $2
                  OR (EXISTS (SELECT 1 FROM participants p
                              WHERE p.conversation_id = a.conversation_id AND p.user_id = $2
                                AND p.left_at IS NULL)
                      AND a.sent))"#,
        id as AttachmentId,
        reader as UserId,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Attachment {
        attachment_id: id,
        name: r.name,
        size: u64::try_from(r.size).unwrap_or(0),
        content_type: r.content_type,
        width: r.width.map(|w| w as u32),
        height: r.height.map(|h| h as u32),
    }))
}

/// A file whose row is deleted: its object (and its thumbnail's, if
/// `image`) go next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Gone {
    pub(crate) id: AttachmentId,
    pub(crate) image: bool,
}

/// Deletes the rows of uploads that no stored message carries (never
/// claimed, or claimed by a message that was never stored) uploaded, or
/// claimed, over `older_than_secs` ago; at most `limit` at a time.
pub(crate) async fn sweep(
    db: impl PgExecutor<'_>,
    older_than_secs: i64,
    limit: i64,
) -> sqlx::Result<Vec<Gone>> {
    let rows = sqlx::query!(
        r#"DELETE FROM attachments WHERE id IN (
               SELECT a.id FROM attachments a
               WHERE NOT a.sent
                 AND coalesce(a.claimed_at, a.created_at) < now() - $1::int8 * interval '1 second'
               ORDER BY coalesce(a.claimed_at, a.created_at) LIMIT $2
               FOR UPDATE SKIP LOCKED)
           RETURNING id AS "id: AttachmentId", width IS NOT NULL AS "image!""#,
        older_than_secs,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Gone {
            id: r.id,
            image: r.image,
        })
        .collect())
}

/// A message's attachments as `messages.attachments` holds them.
pub(crate) fn listed(json: &str) -> Vec<Attachment> {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::error!(error = %e, "unreadable attachments");
        Vec::new()
    })
}

/// One attachment as `messages.attachments -> 0` holds it.
pub(crate) fn one(json: &str) -> Option<Attachment> {
    serde_json::from_str(json).ok()
}
