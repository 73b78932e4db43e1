//! Messages: the group-commit insert, history pages and read markers.

use crate::protocol::{Content, ConversationId, MessageId, UserId};
use sqlx::PgExecutor;
use std::collections::HashMap;

/// One message of a batch, validated and authorised by the caller.
#[derive(Clone, Debug)]
pub(crate) struct NewMessage {
    pub(crate) conversation_id: ConversationId,
    pub(crate) message_id: MessageId,
    pub(crate) sender_id: UserId,
    pub(crate) content: Content,
    pub(crate) timestamp: i64,
}

/// What the database holds for one message of a batch after the insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Stored by this batch at this place in its conversation.
    Inserted { seq: i64 },
    /// The id was already stored (a retry, or a clash); this is what is
    /// stored under it, and where.
    Existing {
        seq: i64,
        conversation_id: ConversationId,
        sender_id: UserId,
        content: Content,
        timestamp: i64,
    },
    /// The conversation no longer exists.
    NoConversation,
}

struct BatchRow {
    message_id: String,
    seq: i64,
    inserted: bool,
    conversation_id: Option<ConversationId>,
    sender_id: Option<UserId>,
    content: Option<Content>,
    client_ts: Option<i64>,
}

/// Stores a batch in ONE statement (so one round trip and one commit, one
/// WAL flush for the whole batch): skips ids already stored, advances each
/// touched conversation's `last_seq` and `last_activity`, inserts the new
/// rows numbered in batch order, and moves each sender's read marker to
/// their newest message. Message ids within `batch` must be distinct.
///
/// `now()` is the same for the whole batch, so each conversation's
/// `last_activity` is offset by its last message's place in the batch (one
/// microsecond each): the inbox then orders conversations touched by one
/// commit as their messages were sent. The offset (under `batch_max` µs)
/// is far below the time one batch takes, so it never overtakes the next.
///
/// The answer is in `batch` order. A concurrent insert of the same id from
/// another node makes the statement fail with a unique violation (nothing is
/// stored); the caller retries and then sees the row as `Existing`.
pub(crate) async fn insert_batch(
    db: impl PgExecutor<'_>,
    batch: &[NewMessage],
) -> sqlx::Result<Vec<Stored>> {
    let mut conversations = Vec::with_capacity(batch.len());
    let mut ids = Vec::with_capacity(batch.len());
    let mut senders = Vec::with_capacity(batch.len());
    let mut contents = Vec::with_capacity(batch.len());
    let mut timestamps = Vec::with_capacity(batch.len());
    for m in batch {
        conversations.push(m.conversation_id);
        ids.push(m.message_id.as_str());
        senders.push(m.sender_id);
        contents.push(m.content.as_str());
        timestamps.push(m.timestamp);
    }
    let rows = sqlx::query_as!(
        BatchRow,
        r#"WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int8[])
        WITH ORDINALITY AS t(conversation_id, message_id, sender_id, content, client_ts, ord)
), existing AS (
    SELECT m.message_id, m.seq, m.conversation_id, m.sender_id, m.content, m.client_ts
    FROM messages m WHERE m.message_id = ANY($2::text[])
), fresh AS (
    SELECT i.* FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.message_id = i.message_id)
), bumped AS (
    UPDATE conversations c
    SET last_seq = c.last_seq + n.count,
        last_activity = now() + (n.last_ord - 1) * interval '1 microsecond'
    FROM (SELECT conversation_id, count(*) AS count, max(ord) AS last_ord
          FROM fresh GROUP BY conversation_id) n
    WHERE c.id = n.conversation_id
    RETURNING c.id, c.last_seq - n.count AS base_seq
), inserted AS (
    INSERT INTO messages (conversation_id, seq, message_id, sender_id, content, client_ts)
    SELECT f.conversation_id,
           b.base_seq + row_number() OVER (PARTITION BY f.conversation_id ORDER BY f.ord),
           f.message_id, f.sender_id, f.content, f.client_ts
    FROM fresh f JOIN bumped b ON b.id = f.conversation_id
    RETURNING message_id, seq, conversation_id, sender_id
), marked AS (
    UPDATE participants p SET read_seq = GREATEST(p.read_seq, r.seq)
    FROM (SELECT conversation_id, sender_id, max(seq) AS seq FROM inserted GROUP BY 1, 2) r
    WHERE p.conversation_id = r.conversation_id AND p.user_id = r.sender_id
)
SELECT message_id AS "message_id!", seq AS "seq!", true AS "inserted!",
       NULL::uuid AS "conversation_id?: ConversationId", NULL::uuid AS "sender_id?: UserId",
       NULL::text AS "content?: Content", NULL::int8 AS "client_ts?"
FROM inserted
UNION ALL
SELECT message_id, seq, false, conversation_id, sender_id, content, client_ts FROM existing"#,
        &conversations as &[ConversationId],
        &ids as &[&str],
        &senders as &[UserId],
        &contents as &[&str],
        &timestamps,
    )
    .fetch_all(db)
    .await?;

    let mut by_id: HashMap<String, Stored> = rows
        .into_iter()
        .map(|row| {
            let stored = match (
                row.inserted,
                row.conversation_id,
                row.sender_id,
                row.content,
                row.client_ts,
            ) {
                (true, ..) => Stored::Inserted { seq: row.seq },
                (false, Some(conversation_id), Some(sender_id), Some(content), Some(timestamp)) => {
                    Stored::Existing {
                        seq: row.seq,
                        conversation_id,
                        sender_id,
                        content,
                        timestamp,
                    }
                }
                _ => Stored::NoConversation,
            };
            (row.message_id, stored)
        })
        .collect();
    Ok(batch
        .iter()
        .map(|m| {
            by_id
                .remove(m.message_id.as_str())
                .unwrap_or(Stored::NoConversation)
        })
        .collect())
}

/// One message of a history page.
#[derive(Clone, Debug)]
pub(crate) struct HistoryRow {
    pub(crate) message_id: MessageId,
    pub(crate) sender_id: UserId,
    pub(crate) content: Content,
    pub(crate) client_ts: i64,
}

/// Up to `limit` messages strictly older than `before` (the newest when
/// `None`), newest first: a backwards range scan of the primary key. `None`
/// when `before` is not a message of this conversation. The cursor is the
/// message's place (`seq`), so messages arriving meanwhile never shift a page.
pub(crate) async fn page(
    db: impl PgExecutor<'_>,
    conversation: ConversationId,
    before: Option<&MessageId>,
    limit: i64,
) -> sqlx::Result<Option<Vec<HistoryRow>>> {
    match before {
        None => sqlx::query_as!(
            HistoryRow,
            r#"SELECT message_id AS "message_id: MessageId", sender_id AS "sender_id: UserId",
                      content AS "content: Content", client_ts
               FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2"#,
            conversation as ConversationId,
            limit,
        )
        .fetch_all(db)
        .await
        .map(Some),
        Some(cursor) => {
            // One round trip: zero rows means the cursor is unknown, one row
            // of NULLs means it is the oldest message. The cursor is found by
            // its id alone (the fence keeps the conversation test out of
            // that scan): given both, a plan made on stale statistics took
            // the primary key and read the whole conversation to find it.
            let rows = sqlx::query_as!(
                CursorRow,
                r#"WITH c AS MATERIALIZED (
                     SELECT conversation_id, seq FROM messages WHERE message_id = $2)
                 SELECT m.message_id AS "message_id?: MessageId",
                        m.sender_id AS "sender_id?: UserId",
                        m.content AS "content?: Content", m.client_ts AS "client_ts?"
                 FROM c LEFT JOIN LATERAL (
                     SELECT message_id, sender_id, content, client_ts, seq FROM messages
                     WHERE conversation_id = $1 AND seq < c.seq ORDER BY seq DESC LIMIT $3) m
                 ON true
                 WHERE c.conversation_id = $1"#,
                conversation as ConversationId,
                cursor as &MessageId,
                limit,
            )
            .fetch_all(db)
            .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            Ok(Some(
                rows.into_iter().filter_map(CursorRow::into_row).collect(),
            ))
        }
    }
}

struct CursorRow {
    message_id: Option<MessageId>,
    sender_id: Option<UserId>,
    content: Option<Content>,
    client_ts: Option<i64>,
}

impl CursorRow {
    fn into_row(self) -> Option<HistoryRow> {
        Some(HistoryRow {
            message_id: self.message_id?,
            sender_id: self.sender_id?,
            content: self.content?,
            client_ts: self.client_ts?,
        })
    }
}
