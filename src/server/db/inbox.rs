//! The inbox: every conversation of one user, most recent activity first.

use super::conversations::{parse_kind, zip_members};
use crate::protocol::{Content, ConversationId, InboxEntry, MessageId, UserId};
use sqlx::PgExecutor;

struct InboxRow {
    id: ConversationId,
    kind: String,
    title: Option<String>,
    created_ms: i64,
    unread: i64,
    last_message_id: Option<MessageId>,
    last_sender_id: Option<UserId>,
    last_content: Option<Content>,
    last_ts: Option<i64>,
    member_ids: Vec<UserId>,
    member_names: Vec<String>,
}

/// One statement: the user's participant rows (a range scan of
/// `participants_user_idx`), each joined to its conversation and its
/// members (a range scan of the participants key, names by primary key)
/// and grouped, then to its newest message (a primary-key lookup on
/// `(conversation_id, last_seq)`). Every step is a lookup per conversation,
/// so the cost follows this user's conversations whatever the plan: joining
/// a separately grouped list of members instead re-ran that grouping for
/// each conversation (28 ms for a user in 200) once the statement's generic
/// plan guessed that a user has two. Sorting happens over this user's
/// conversations only; keeping an index on (user, last activity) instead
/// would cost one index update per member on every message, which a
/// 200-member group would feel on each send.
pub(crate) async fn for_user(
    db: impl PgExecutor<'_>,
    user: UserId,
) -> sqlx::Result<Vec<InboxEntry>> {
    let rows = sqlx::query_as!(
        InboxRow,
        r#"WITH mine AS (
             SELECT c.id, c.kind, c.title, c.last_activity, c.created_at,
                    c.last_seq - p.read_seq AS unread, c.last_seq,
                    array_agg(u.id ORDER BY u.username) AS member_ids,
                    array_agg(u.username ORDER BY u.username) AS member_names
             FROM participants p JOIN conversations c ON c.id = p.conversation_id
             JOIN participants pm ON pm.conversation_id = c.id
             JOIN users u ON u.id = pm.user_id
             WHERE p.user_id = $1
             GROUP BY c.id, p.read_seq)
         SELECT mine.id AS "id!: ConversationId", mine.kind AS "kind!", mine.title,
                (extract(epoch FROM mine.created_at) * 1000)::int8 AS "created_ms!",
                mine.unread AS "unread!",
                m.message_id AS "last_message_id?: MessageId",
                m.sender_id AS "last_sender_id?: UserId",
                m.content AS "last_content?: Content",
                m.client_ts AS "last_ts?",
                mine.member_ids AS "member_ids!: Vec<UserId>",
                mine.member_names AS "member_names!"
         FROM mine
         LEFT JOIN messages m ON m.conversation_id = mine.id AND m.seq = mine.last_seq
         ORDER BY mine.last_activity DESC, mine.id DESC"#,
        user as UserId,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| entry(row, user)).collect())
}

fn entry(row: InboxRow, me: UserId) -> InboxEntry {
    let kind = parse_kind(&row.kind);
    let participants = zip_members(row.member_ids, row.member_names);
    let other = match kind {
        crate::protocol::ConversationKind::Direct => {
            participants.iter().find(|p| p.user_id != me).cloned()
        }
        crate::protocol::ConversationKind::Group => None,
    };
    InboxEntry {
        conversation_id: row.id,
        participant: other.as_ref().map(|p| p.user_id),
        participant_name: other.map(|p| p.username),
        last_message: row.last_content,
        timestamp: row.last_ts.unwrap_or(row.created_ms),
        kind,
        title: row.title,
        participants,
        last_sender_id: row.last_sender_id,
        last_message_id: row.last_message_id,
        unread_count: row.unread.max(0),
    }
}
