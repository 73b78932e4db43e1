//! Edits, deletions and reactions: each in one transaction that checks it
//! against the message (locked, so two actions on one message take turns),
//! applies it, gives it the conversation's next change number if it
//! changed anything, and records its `action_id` so that a retry is
//! answered again instead of done twice.

use super::attachments::Gone;
use crate::protocol::{
    AttachmentId, Content, ConversationId, Emoji, MAX_REACTIONS_PER_MESSAGE, MessageId, UserId,
};
use sqlx::PgPool;

/// What is done to the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Edit(Content),
    Delete,
    React(Emoji),
    Unreact(Emoji),
}

impl Change {
    /// Its name in `message_actions.kind`.
    fn kind(&self) -> &'static str {
        match self {
            Self::Edit(_) => "edit",
            Self::Delete => "delete",
            Self::React(_) => "react",
            Self::Unreact(_) => "unreact",
        }
    }
}

/// One action by `user`, already checked to be a member (and for a
/// blocked chat).
#[derive(Clone, Copy)]
pub(crate) struct Act<'a> {
    pub(crate) action_id: &'a MessageId,
    pub(crate) user: UserId,
    pub(crate) conversation: ConversationId,
    pub(crate) message_id: &'a MessageId,
    pub(crate) change: &'a Change,
}

/// How it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Done now: the change number it took, or `None` if it changed
    /// nothing; for an edit, when (ms since the epoch).
    Done {
        change: Option<i64>,
        edited_at: Option<i64>,
        /// A deletion's files, whose bytes are to be deleted now.
        files: Vec<Gone>,
    },
    /// This `action_id` was done before: its change then.
    Repeated { change: Option<i64> },
    /// This `action_id` was used for another action.
    IdTaken,
    /// No such message in this conversation.
    NoMessage,
    /// Edit and delete are the author's only.
    NotAuthor,
    /// A deleted message can no longer be edited or reacted to.
    Deleted,
    /// The message carries the most different emoji it may.
    TooManyReactions,
}

/// Applies `act`. A concurrent retry of the same `action_id` makes this
/// fail with a unique violation (nothing done); trying again then finds it
/// [`Outcome::Repeated`].
pub(crate) async fn apply(db: &PgPool, act: Act<'_>) -> sqlx::Result<Outcome> {
    let mut tx = db.begin().await?;
    let before = sqlx::query!(
        r#"SELECT user_id AS "user_id: UserId", conversation_id AS "conversation_id: ConversationId",
                  message_id, kind, change
           FROM message_actions WHERE action_id = $1"#,
        act.action_id as &MessageId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(before) = before {
        let same = before.user_id == act.user
            && before.conversation_id == act.conversation
            && before.message_id == act.message_id.as_str()
            && before.kind == act.change.kind();
        return Ok(if same {
            Outcome::Repeated {
                change: before.change,
            }
        } else {
            Outcome::IdTaken
        });
    }
    let Some(message) = sqlx::query!(
        r#"SELECT seq, sender_id AS "sender_id: UserId", content, deleted_at IS NOT NULL AS "deleted!"
           FROM messages WHERE message_id = $2 AND conversation_id = $1 FOR UPDATE"#,
        act.conversation as ConversationId,
        act.message_id as &MessageId,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(Outcome::NoMessage);
    };
    let mine = message.sender_id == act.user;
    let (conversation, seq) = (act.conversation, message.seq);
    let mut edited_at = None;
    let mut files = Vec::new();
    let change: Option<i64> = match act.change {
        Change::Edit(_) | Change::Delete if !mine => return Ok(Outcome::NotAuthor),
        Change::Edit(_) | Change::React(_) if message.deleted => return Ok(Outcome::Deleted),
        Change::Delete if message.deleted => None,
        Change::Edit(text) if message.content.as_deref() == Some(text.as_str()) => None,
        Change::Edit(text) => {
            let row = sqlx::query!(
                r#"WITH c AS (UPDATE conversations SET last_change = last_change + 1
                              WHERE id = $1 RETURNING last_change)
                   UPDATE messages m SET content = $3, edited_at = now(), change = c.last_change
                   FROM c WHERE m.conversation_id = $1 AND m.seq = $2
                   RETURNING c.last_change AS change,
                             (extract(epoch FROM m.edited_at) * 1000)::int8 AS "edited_ms!""#,
                conversation as ConversationId,
                seq,
                text.as_str(),
            )
            .fetch_one(&mut *tx)
            .await?;
            edited_at = Some(row.edited_ms);
            Some(row.change)
        }
        Change::Delete => {
            let row = sqlx::query!(
                r#"WITH c AS (UPDATE conversations SET last_change = last_change + 1
                              WHERE id = $1 RETURNING last_change),
                        gone AS (DELETE FROM reactions WHERE conversation_id = $1 AND seq = $2),
                        files AS (DELETE FROM attachments WHERE message_id = $3
                                  RETURNING id, width IS NOT NULL AS image)
                   UPDATE messages m SET content = NULL, deleted_at = now(), change = c.last_change,
                                         reactions = 0, attachments = NULL
                   FROM c WHERE m.conversation_id = $1 AND m.seq = $2
                   RETURNING c.last_change AS change,
                             ARRAY(SELECT id FROM files) AS "files!: Vec<AttachmentId>",
                             ARRAY(SELECT image FROM files) AS "images!: Vec<bool>""#,
                conversation as ConversationId,
                seq,
                act.message_id as &MessageId,
            )
            .fetch_one(&mut *tx)
            .await?;
            files = row
                .files
                .into_iter()
                .zip(row.images)
                .map(|(id, image)| Gone { id, image })
                .collect();
            Some(row.change)
        }
        Change::React(emoji) => {
            let present = sqlx::query!(
                r#"SELECT count(DISTINCT emoji) FILTER (WHERE emoji <> $3) AS "others!",
                          coalesce(bool_or(emoji = $3), false) AS "given!"
                   FROM reactions WHERE conversation_id = $1 AND seq = $2"#,
                conversation as ConversationId,
                seq,
                emoji.as_str(),
            )
            .fetch_one(&mut *tx)
            .await?;
            if !present.given && present.others >= MAX_REACTIONS_PER_MESSAGE as i64 {
                return Ok(Outcome::TooManyReactions);
            }
            sqlx::query_scalar!(
                r#"WITH added AS (
                       INSERT INTO reactions (conversation_id, seq, emoji, user_id)
                       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1),
                   c AS (UPDATE conversations SET last_change = last_change + 1
                         WHERE id = $1 AND EXISTS (SELECT 1 FROM added) RETURNING last_change)
                   UPDATE messages m SET change = c.last_change, reactions = m.reactions + 1
                   FROM c WHERE m.conversation_id = $1 AND m.seq = $2
                   RETURNING c.last_change"#,
                conversation as ConversationId,
                seq,
                emoji.as_str(),
                act.user as UserId,
            )
            .fetch_optional(&mut *tx)
            .await?
        }
        Change::Unreact(emoji) => {
            sqlx::query_scalar!(
                r#"WITH taken AS (
                       DELETE FROM reactions
                       WHERE conversation_id = $1 AND seq = $2 AND emoji = $3 AND user_id = $4
                       RETURNING 1),
                   c AS (UPDATE conversations SET last_change = last_change + 1
                         WHERE id = $1 AND EXISTS (SELECT 1 FROM taken) RETURNING last_change)
                   UPDATE messages m SET change = c.last_change, reactions = m.reactions - 1
                   FROM c WHERE m.conversation_id = $1 AND m.seq = $2
                   RETURNING c.last_change"#,
                conversation as ConversationId,
                seq,
                emoji.as_str(),
                act.user as UserId,
            )
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    // Its words for search, as it now reads (none once deleted).
    if change.is_some() && matches!(act.change, Change::Edit(_) | Change::Delete) {
        sqlx::query!(
            "SELECT reindex_message($1, $2)",
            conversation as ConversationId,
            seq
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "INSERT INTO message_actions (action_id, user_id, conversation_id, message_id, kind, change)
         VALUES ($1, $2, $3, $4, $5, $6)",
        act.action_id as &MessageId,
        act.user as UserId,
        conversation as ConversationId,
        act.message_id as &MessageId,
        act.change.kind(),
        change,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done {
        change,
        edited_at,
        files,
    })
}
