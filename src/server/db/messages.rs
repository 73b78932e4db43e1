//! Messages: history pages, pages around a message, the change stream,
//! and the message a reply quotes (the group commit's statements are in
//! [`super::batch`]).

use crate::protocol::{
    Content, ConversationId, Emoji, HistoryMessage, MessageId, QUOTE_CHARS, Quote, Reaction, UserId,
};
use sqlx::PgExecutor;

/// Which messages a page holds.
#[derive(Clone, Debug)]
pub(crate) enum Window<'a> {
    /// The newest.
    Newest,
    /// Those strictly older than this message.
    Before(&'a MessageId),
    /// Those around this message, which is one of them: up to this many
    /// newer than it, the rest older (more older when fewer newer exist).
    Around(&'a MessageId, i64),
    /// Those strictly newer than this message, the oldest of them: the
    /// page after it when paging towards the newest.
    After(&'a MessageId),
}

/// A page's messages, newest first, and what the page tells of the rest.
pub(crate) struct Page {
    pub(crate) messages: Vec<HistoryMessage>,
    /// The conversation's newest change when the page was read.
    pub(crate) last_change: i64,
    /// Messages newer than the page's newest exist.
    pub(crate) newer: bool,
}

/// Up to `limit` messages of a [`Window`], newest first, each as `reader`
/// sees it now, and the conversation's newest change as of the same
/// moment (an `After` window takes the `limit` places above its message,
/// which are the next `limit` messages: places are dense, a deleted
/// message keeps its own). `None` when the window's message is not one of this
/// conversation; an empty list and change 0 for a conversation that does
/// not exist. One statement: the places are a backwards range scan of the
/// primary key, and each message's quote and reactions key lookups. The
/// places are worked out apart (the lateral `w`) and handed to
/// `message_states` as a column: given the sub-select itself as its
/// argument, PostgreSQL does not inline the function and plans its body
/// again for every page (a page took four times as long).
pub(crate) async fn page(
    db: impl PgExecutor<'_>,
    conversation: ConversationId,
    window: Window<'_>,
    limit: i64,
    reader: UserId,
) -> sqlx::Result<Option<Page>> {
    let (anchor, above) = match window {
        Window::Newest => (None, 0),
        Window::Before(id) => (Some(id), -1),
        Window::Around(id, newer) => (Some(id), newer),
        Window::After(id) => (Some(id), limit),
    };
    let after = matches!(window, Window::After(_));
    // The anchor is found by its id alone (the fence keeps the
    // conversation test out of that scan): given both, a plan made on
    // stale statistics took the primary key and read the whole
    // conversation to find it.
    let rows = sqlx::query_as!(
        StateRow,
        r#"WITH anchor AS MATERIALIZED (
               SELECT conversation_id, seq FROM messages WHERE message_id = $2),
           top AS (
               SELECT CASE WHEN $2::text IS NULL THEN 9223372036854775807
                           ELSE (SELECT seq + $3 FROM anchor WHERE conversation_id = $1) END AS seq,
                      CASE WHEN $6 THEN (SELECT seq FROM anchor) ELSE 0 END AS low)
           SELECT c.last_change AS "last_change!", c.last_seq AS "last_seq!",
                  t.seq IS NOT NULL AS "found!",
                  s.seq AS "seq?", s.message_id AS "message_id?: MessageId",
                  s.sender_id AS "sender_id?: UserId", s.content AS "content?: Content",
                  s.client_ts AS "client_ts?", s.change AS "change?",
                  s.edited_ms AS "edited_ms?", s.deleted AS "deleted?",
                  s.reply_message_id AS "reply_message_id?: MessageId",
                  s.reply_sender_id AS "reply_sender_id?: UserId",
                  s.reply_excerpt AS "reply_excerpt?", s.reply_deleted AS "reply_deleted?",
                  s.reactions::text AS "reactions?", s.attachments::text AS "attachments?"
           FROM conversations c CROSS JOIN top t
           CROSS JOIN LATERAL (SELECT ARRAY(
               SELECT m.seq FROM messages m
               WHERE m.conversation_id = c.id AND m.seq <= t.seq AND m.seq > t.low
               ORDER BY m.seq DESC LIMIT $4) AS seqs) w
           LEFT JOIN LATERAL message_states(c.id, w.seqs, $5) s ON true
           WHERE c.id = $1"#,
        conversation as ConversationId,
        anchor.map(MessageId::as_str),
        above,
        limit,
        reader as UserId,
        after,
    )
    .fetch_all(db)
    .await?;
    let last_change = rows.first().map_or(0, |r| r.last_change);
    if rows.first().is_some_and(|r| !r.found) {
        return Ok(None);
    }
    let newer = rows
        .first()
        .is_some_and(|r| r.seq.is_some_and(|seq| seq < r.last_seq));
    Ok(Some(Page {
        messages: rows
            .into_iter()
            .filter_map(StateRow::into_message)
            .collect(),
        last_change,
        newer,
    }))
}

/// Up to `limit` messages whose latest change is after `since`, in the
/// order of those changes, each as `reader` sees it now; and the
/// conversation's newest change as of the same moment. A range scan of
/// `messages_change_idx`.
pub(crate) async fn changes(
    db: impl PgExecutor<'_>,
    conversation: ConversationId,
    since: i64,
    limit: i64,
    reader: UserId,
) -> sqlx::Result<(Vec<HistoryMessage>, i64)> {
    let rows = sqlx::query_as!(
        StateRow,
        r#"SELECT c.last_change AS "last_change!", c.last_seq AS "last_seq!", true AS "found!",
                  s.seq AS "seq?", s.message_id AS "message_id?: MessageId",
                  s.sender_id AS "sender_id?: UserId", s.content AS "content?: Content",
                  s.client_ts AS "client_ts?", s.change AS "change?",
                  s.edited_ms AS "edited_ms?", s.deleted AS "deleted?",
                  s.reply_message_id AS "reply_message_id?: MessageId",
                  s.reply_sender_id AS "reply_sender_id?: UserId",
                  s.reply_excerpt AS "reply_excerpt?", s.reply_deleted AS "reply_deleted?",
                  s.reactions::text AS "reactions?", s.attachments::text AS "attachments?"
           FROM conversations c
           CROSS JOIN LATERAL (SELECT ARRAY(
               SELECT m.seq FROM messages m WHERE m.conversation_id = c.id AND m.change > $2
               ORDER BY m.change LIMIT $3) AS seqs) w
           LEFT JOIN LATERAL message_states(c.id, w.seqs, $4) s ON true
           WHERE c.id = $1"#,
        conversation as ConversationId,
        since,
        limit,
        reader as UserId,
    )
    .fetch_all(db)
    .await?;
    let last_change = rows.first().map_or(0, |r| r.last_change);
    Ok((
        rows.into_iter()
            .filter_map(StateRow::into_message)
            .collect(),
        last_change,
    ))
}

/// A message a reply may answer: its place, and its quote as it is now.
/// `None` unless it is a message of this conversation.
pub(crate) async fn quote(
    db: impl PgExecutor<'_>,
    conversation: ConversationId,
    id: &MessageId,
) -> sqlx::Result<Option<(i64, Quote)>> {
    let row = sqlx::query!(
        r#"SELECT seq, sender_id AS "sender_id: UserId", left(content, $3) AS excerpt
           FROM messages WHERE message_id = $2 AND conversation_id = $1"#,
        conversation as ConversationId,
        id as &MessageId,
        QUOTE_CHARS as i32,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        (
            r.seq,
            Quote {
                message_id: id.clone(),
                sender_id: r.sender_id,
                text: r.excerpt,
            },
        )
    }))
}

/// One row of `message_states` (all NULL but the first two for a
/// conversation without a message in the window).
struct StateRow {
    last_change: i64,
    last_seq: i64,
    found: bool,
    seq: Option<i64>,
    message_id: Option<MessageId>,
    sender_id: Option<UserId>,
    content: Option<Content>,
    client_ts: Option<i64>,
    change: Option<i64>,
    edited_ms: Option<i64>,
    deleted: Option<bool>,
    reply_message_id: Option<MessageId>,
    reply_sender_id: Option<UserId>,
    reply_excerpt: Option<String>,
    reply_deleted: Option<bool>,
    reactions: Option<String>,
    attachments: Option<String>,
}

impl StateRow {
    fn into_message(self) -> Option<HistoryMessage> {
        self.seq?;
        let reply = match (self.reply_message_id, self.reply_sender_id) {
            (Some(message_id), Some(sender_id)) => Some(Quote {
                message_id,
                sender_id,
                text: self
                    .reply_excerpt
                    .filter(|_| self.reply_deleted != Some(true)),
            }),
            _ => None,
        };
        Some(HistoryMessage {
            message_id: self.message_id?,
            sender_id: self.sender_id?,
            content: self.content,
            timestamp: self.client_ts?,
            change: self.change?,
            edited_at: self.edited_ms,
            deleted: self.deleted == Some(true),
            reply,
            reactions: self.reactions.as_deref().map(reactions).unwrap_or_default(),
            attachments: self
                .attachments
                .as_deref()
                .map(super::attachments::listed)
                .unwrap_or_default(),
        })
    }
}

/// `[[emoji, count, mine, [user uuid, ...]], ...]` as `message_states`
/// writes it.
fn reactions(json: &str) -> Vec<Reaction> {
    type Stored = (String, i64, bool, Vec<uuid::Uuid>);
    let stored: Vec<Stored> = serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::error!(error = %e, "unreadable reactions");
        Vec::new()
    });
    stored
        .into_iter()
        .filter_map(|(emoji, count, mine, users)| {
            Some(Reaction {
                emoji: Emoji::parse(&emoji).ok()?,
                count,
                mine,
                users: users.into_iter().map(UserId).collect(),
            })
        })
        .collect()
}
