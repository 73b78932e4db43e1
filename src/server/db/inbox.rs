//! The inbox: one user's conversations, most recent activity first, a page
//! at a time.

use super::conversations::{parse_kind, zip_members};
use crate::protocol::{Content, ConversationId, ConversationKind, InboxEntry, MessageId, UserId};

/// Where a page of the inbox starts: strictly after this conversation,
/// whose last activity was at this moment (microseconds since the epoch).
/// On the wire it is `<micros>_<conversation_id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InboxCursor {
    pub(crate) activity_us: i64,
    pub(crate) conversation: ConversationId,
}

impl InboxCursor {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (micros, conversation) = text.split_once('_')?;
        Some(Self {
            activity_us: micros.parse().ok()?,
            conversation: ConversationId::parse(conversation)?,
        })
    }
}

impl std::fmt::Display for InboxCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.activity_us, self.conversation)
    }
}

struct InboxRow {
    id: ConversationId,
    kind: String,
    title: Option<String>,
    activity_us: i64,
    created_ms: i64,
    unread: i64,
    muted: bool,
    member_count: i64,
    last_message_id: Option<MessageId>,
    last_sender_id: Option<UserId>,
    last_sender_name: Option<String>,
    last_content: Option<Content>,
    last_attachment: Option<String>,
    last_ts: Option<i64>,
    shown_ids: Vec<UserId>,
    shown_names: Vec<String>,
}

/// Up to `limit` of `user`'s conversations after `after`, most recent
/// activity first, and the cursor of the last when more follow (so the last
/// page is never an empty one).
///
/// One statement. The page is picked first from the user's participant
/// rows (a range scan of `participants_user_idx`, each joined to its
/// conversation by primary key, sorted over this user's conversations
/// only); then, for the page's rows alone, the member count and the few
/// people a row shows (ids and names from one range of the participants
/// key each), and the newest message (a primary-key lookup on
/// `(conversation_id, last_seq)`). Keeping an index on (user, last
/// activity) instead would cost an index update per member on every
/// message, which a large group would feel on each send.
pub(crate) async fn page(
    db: impl sqlx::PgExecutor<'_>,
    user: UserId,
    after: Option<InboxCursor>,
    limit: i64,
) -> sqlx::Result<(Vec<InboxEntry>, Option<InboxCursor>)> {
    let mut rows = sqlx::query_as!(
        InboxRow,
        r#"WITH mine AS MATERIALIZED (
             SELECT c.id, c.kind, c.title, c.last_activity, c.created_at, c.last_seq,
                    c.last_seq - p.read_seq AS unread, p.muted
             FROM participants p JOIN conversations c ON c.id = p.conversation_id
             WHERE p.user_id = $1 AND p.left_at IS NULL
               AND ($2::int8 IS NULL
                    OR ((extract(epoch FROM c.last_activity) * 1000000)::int8, c.id)
                       < ($2::int8, $3::uuid))
             ORDER BY c.last_activity DESC, c.id DESC
             LIMIT $4)
         SELECT mine.id AS "id!: ConversationId", mine.kind AS "kind!", mine.title,
                (extract(epoch FROM mine.last_activity) * 1000000)::int8 AS "activity_us!",
                (extract(epoch FROM mine.created_at) * 1000)::int8 AS "created_ms!",
                mine.unread AS "unread!", mine.muted AS "muted!",
                (SELECT count(*) FROM participants pm
                 WHERE pm.conversation_id = mine.id AND pm.left_at IS NULL) AS "member_count!",
                m.message_id AS "last_message_id?: MessageId",
                m.sender_id AS "last_sender_id?: UserId",
                (SELECT username FROM users WHERE id = m.sender_id) AS "last_sender_name?",
                m.content AS "last_content?: Content",
                (m.attachments -> 0)::text AS "last_attachment?",
                m.client_ts AS "last_ts?",
                shown.ids AS "shown_ids!: Vec<UserId>", shown.names AS "shown_names!"
         FROM mine
         LEFT JOIN messages m ON m.conversation_id = mine.id AND m.seq = mine.last_seq
         CROSS JOIN LATERAL (
             SELECT coalesce(array_agg(f.id ORDER BY f.username), '{}') AS ids,
                    coalesce(array_agg(f.username ORDER BY f.username), '{}') AS names
             FROM (SELECT u.id, u.username FROM participants pm JOIN users u ON u.id = pm.user_id
                   WHERE pm.conversation_id = mine.id AND pm.left_at IS NULL
                     AND pm.user_id <> $1
                   ORDER BY u.username LIMIT 3) f) shown
         ORDER BY mine.last_activity DESC, mine.id DESC"#,
        user as UserId,
        after.map(|a| a.activity_us),
        after.map(|a| a.conversation) as Option<ConversationId>,
        // One more than asked tells whether anything is left after it.
        limit + 1,
    )
    .fetch_all(db)
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = more.then(|| rows.last()).flatten().map(|last| InboxCursor {
        activity_us: last.activity_us,
        conversation: last.id,
    });
    Ok((rows.into_iter().map(entry).collect(), next))
}

fn entry(row: InboxRow) -> InboxEntry {
    let kind = parse_kind(&row.kind);
    let participants = zip_members(row.shown_ids, row.shown_names);
    let other = match kind {
        ConversationKind::Direct => participants.first().cloned(),
        ConversationKind::Group => None,
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
        member_count: row.member_count,
        last_sender_id: row.last_sender_id,
        last_sender_name: row.last_sender_name,
        last_message_id: row.last_message_id,
        unread_count: row.unread.max(0),
        last_attachment: row
            .last_attachment
            .as_deref()
            .and_then(super::attachments::one),
        muted: row.muted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written_and_nothing_else_reads_as_one() {
        let cursor = InboxCursor {
            activity_us: 1_713_087_600_000_123,
            conversation: ConversationId::new_v7(),
        };
        assert_eq!(InboxCursor::parse(&cursor.to_string()), Some(cursor));
        for bad in [
            "",
            "12",
            "x_conv_1",
            "12_user_0190a6f8c2b47cc1a1b2c3d4e5f60718",
        ] {
            assert_eq!(InboxCursor::parse(bad), None, "{bad}");
        }
    }
}
