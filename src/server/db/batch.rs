//! The group commit's statements: a batch of new messages stored in one
//! statement, so one round trip and one WAL flush for the whole batch.

use crate::protocol::{Attachment, Content, ConversationId, MessageId, UserId};
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
    /// The place of the message it answers, found by the caller in the same
    /// conversation.
    pub(crate) reply_seq: Option<i64>,
    /// Its files, claimed for it by the caller (`db::attachments::claim`).
    pub(crate) attachments: Vec<Attachment>,
}

/// What the database holds for one message of a batch after the insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Stored by this batch at this place in its conversation, as this
    /// change of it.
    Inserted { seq: i64, change: i64 },
    /// The id was already stored (a retry, or a clash); this is what is
    /// stored under it, and where (`content` is `None` once deleted, and
    /// the edited text if `edited`).
    Existing {
        seq: i64,
        change: i64,
        conversation_id: ConversationId,
        sender_id: UserId,
        content: Option<Content>,
        edited: bool,
        timestamp: i64,
    },
    /// The conversation no longer exists.
    NoConversation,
}

struct BatchRow {
    message_id: String,
    seq: i64,
    change: i64,
    inserted: bool,
    conversation_id: Option<ConversationId>,
    sender_id: Option<UserId>,
    content: Option<Content>,
    client_ts: Option<i64>,
    edited: Option<bool>,
}

/// Stores a batch in ONE statement (so one round trip and one commit, one
/// WAL flush for the whole batch): skips ids already stored, advances each
/// touched conversation's `last_seq`, `last_change` and `last_activity`,
/// inserts the new rows numbered in batch order (each message is the next
/// place and the next change), and moves each sender's read marker to
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
    let columns = Columns::of(batch);
    let files: Vec<Option<String>> = batch
        .iter()
        .map(|m| {
            (!m.attachments.is_empty())
                .then(|| serde_json::to_string(&m.attachments).unwrap_or_default())
        })
        .collect();
    let rows = sqlx::query_as!(
        BatchRow,
        r#"WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int8[], $6::int8[],
                         $7::text[])
        WITH ORDINALITY AS t(conversation_id, message_id, sender_id, content, client_ts, reply_seq,
                             attachments, ord)
), existing AS (
    SELECT m.message_id, m.seq, m.change, m.conversation_id, m.sender_id, m.content, m.client_ts,
           m.edited_at IS NOT NULL AS edited
    FROM messages m WHERE m.message_id = ANY($2::text[])
), fresh AS (
    SELECT i.* FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.message_id = i.message_id)
), bumped AS (
    UPDATE conversations c
    SET last_seq = c.last_seq + n.count,
        last_change = c.last_change + n.count,
        last_activity = now() + (n.last_ord - 1) * interval '1 microsecond'
    FROM (SELECT conversation_id, count(*) AS count, max(ord) AS last_ord
          FROM fresh GROUP BY conversation_id) n
    WHERE c.id = n.conversation_id
    RETURNING c.id, c.last_seq - n.count AS base_seq, c.last_change - n.count AS base_change
), numbered AS (
    SELECT f.*, b.base_seq, b.base_change,
           row_number() OVER (PARTITION BY f.conversation_id ORDER BY f.ord) AS n
    FROM fresh f JOIN bumped b ON b.id = f.conversation_id
), inserted AS (
    INSERT INTO messages (conversation_id, seq, change, message_id, sender_id, content, client_ts,
                          reply_seq, attachments)
    SELECT conversation_id, base_seq + n, base_change + n, message_id, sender_id, content,
           client_ts, reply_seq, attachments::jsonb
    FROM numbered
    RETURNING message_id, seq, change, conversation_id, sender_id, attachments IS NOT NULL AS files
), sent AS (
    UPDATE attachments a SET sent = true
    FROM inserted i WHERE i.files AND a.message_id = i.message_id
), marked AS (
    UPDATE participants p SET read_seq = GREATEST(p.read_seq, r.seq)
    FROM (SELECT conversation_id, sender_id, max(seq) AS seq FROM inserted GROUP BY 1, 2) r
    WHERE p.conversation_id = r.conversation_id AND p.user_id = r.sender_id
)
SELECT message_id AS "message_id!", seq AS "seq!", change AS "change!", true AS "inserted!",
       NULL::uuid AS "conversation_id?: ConversationId", NULL::uuid AS "sender_id?: UserId",
       NULL::text AS "content?: Content", NULL::int8 AS "client_ts?", NULL::bool AS "edited?"
FROM inserted
UNION ALL
SELECT message_id, seq, change, false, conversation_id, sender_id, content, client_ts, edited
FROM existing"#,
        &columns.conversations as &[ConversationId],
        &columns.ids as &[&str],
        &columns.senders as &[UserId],
        &columns.contents as &[&str],
        &columns.timestamps,
        &columns.replies as &[Option<i64>],
        &files as &[Option<String>],
    )
    .fetch_all(db)
    .await?;

    let by_id: HashMap<String, Stored> = rows
        .into_iter()
        .map(|row| {
            let stored = match (
                row.inserted,
                row.conversation_id,
                row.sender_id,
                row.client_ts,
            ) {
                (true, ..) => Stored::Inserted {
                    seq: row.seq,
                    change: row.change,
                },
                (false, Some(conversation_id), Some(sender_id), Some(timestamp)) => {
                    Stored::Existing {
                        seq: row.seq,
                        change: row.change,
                        conversation_id,
                        sender_id,
                        content: row.content,
                        edited: row.edited == Some(true),
                        timestamp,
                    }
                }
                _ => Stored::NoConversation,
            };
            (row.message_id, stored)
        })
        .collect();
    Ok(in_batch_order(batch, by_id))
}

/// [`insert_batch`] for the common case, a batch of new messages without
/// files: the same rows and the same answer, for less. It does not look
/// for ids already stored, so a batch holding one (a retry) fails whole
/// with a unique violation and stores nothing; the caller then stores it
/// with [`insert_batch`]. Looking them up and marking files sent cost the
/// database about a tenth of a batch of 25 even when there were none.
pub(crate) async fn insert_fresh(
    db: impl PgExecutor<'_>,
    batch: &[NewMessage],
) -> sqlx::Result<Vec<Stored>> {
    debug_assert!(
        batch.iter().all(|m| m.attachments.is_empty()),
        "files go through insert_batch"
    );
    let columns = Columns::of(batch);
    let rows = sqlx::query!(
        r#"WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int8[], $6::int8[])
        WITH ORDINALITY AS t(conversation_id, message_id, sender_id, content, client_ts, reply_seq,
                             ord)
), bumped AS (
    UPDATE conversations c
    SET last_seq = c.last_seq + n.count,
        last_change = c.last_change + n.count,
        last_activity = now() + (n.last_ord - 1) * interval '1 microsecond'
    FROM (SELECT conversation_id, count(*) AS count, max(ord) AS last_ord
          FROM input GROUP BY conversation_id) n
    WHERE c.id = n.conversation_id
    RETURNING c.id, c.last_seq - n.count AS base_seq, c.last_change - n.count AS base_change
), inserted AS (
    INSERT INTO messages (conversation_id, seq, change, message_id, sender_id, content, client_ts,
                          reply_seq)
    SELECT i.conversation_id, b.base_seq + i.n, b.base_change + i.n, i.message_id, i.sender_id,
           i.content, i.client_ts, i.reply_seq
    FROM (SELECT *, row_number() OVER (PARTITION BY conversation_id ORDER BY ord) AS n
          FROM input) i
    JOIN bumped b ON b.id = i.conversation_id
    RETURNING message_id, seq, change, conversation_id, sender_id
), marked AS (
    UPDATE participants p SET read_seq = GREATEST(p.read_seq, r.seq)
    FROM (SELECT conversation_id, sender_id, max(seq) AS seq FROM inserted GROUP BY 1, 2) r
    WHERE p.conversation_id = r.conversation_id AND p.user_id = r.sender_id
)
SELECT message_id AS "message_id!", seq AS "seq!", change AS "change!" FROM inserted"#,
        &columns.conversations as &[ConversationId],
        &columns.ids as &[&str],
        &columns.senders as &[UserId],
        &columns.contents as &[&str],
        &columns.timestamps,
        &columns.replies as &[Option<i64>],
    )
    .fetch_all(db)
    .await?;
    let by_id = rows
        .into_iter()
        .map(|row| {
            let stored = Stored::Inserted {
                seq: row.seq,
                change: row.change,
            };
            (row.message_id, stored)
        })
        .collect();
    Ok(in_batch_order(batch, by_id))
}

/// A batch as the statements take it: one array per column.
struct Columns<'a> {
    conversations: Vec<ConversationId>,
    ids: Vec<&'a str>,
    senders: Vec<UserId>,
    contents: Vec<&'a str>,
    timestamps: Vec<i64>,
    replies: Vec<Option<i64>>,
}

impl<'a> Columns<'a> {
    fn of(batch: &'a [NewMessage]) -> Self {
        Self {
            conversations: batch.iter().map(|m| m.conversation_id).collect(),
            ids: batch.iter().map(|m| m.message_id.as_str()).collect(),
            senders: batch.iter().map(|m| m.sender_id).collect(),
            contents: batch.iter().map(|m| m.content.as_str()).collect(),
            timestamps: batch.iter().map(|m| m.timestamp).collect(),
            replies: batch.iter().map(|m| m.reply_seq).collect(),
        }
    }
}

/// The answer for each message of `batch`, in its order: what `by_id`
/// says, or that its conversation is gone (the statement skipped it).
fn in_batch_order(batch: &[NewMessage], mut by_id: HashMap<String, Stored>) -> Vec<Stored> {
    batch
        .iter()
        .map(|m| {
            by_id
                .remove(m.message_id.as_str())
                .unwrap_or(Stored::NoConversation)
        })
        .collect()
}
