//! Conversations and their participants.

use crate::protocol::{Conversation, ConversationId, ConversationKind, UserId, UserSummary};
use sqlx::{PgExecutor, PgPool};

/// Finds the direct chat between `a` and `b`, creating it if needed. The
/// `bool` is true when this call created it. Two concurrent calls for the
/// same pair agree on one conversation: the pair's unique constraint makes
/// the loser's insert a no-op, and it then reads the winner's row.
pub(crate) async fn get_or_create_direct(
    db: &PgPool,
    a: UserId,
    b: UserId,
) -> sqlx::Result<(ConversationId, bool)> {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    let mut tx = db.begin().await?;
    let created = sqlx::query_scalar!(
        r#"INSERT INTO conversations (id, kind, direct_low, direct_high)
           VALUES ($1, 'direct', $2, $3)
           ON CONFLICT (direct_low, direct_high) DO NOTHING RETURNING id AS "id: ConversationId""#,
        ConversationId::new_v7() as ConversationId,
        low as UserId,
        high as UserId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let result = match created {
        Some(id) => {
            add_participants(&mut *tx, id, &[low, high]).await?;
            (id, true)
        }
        None => {
            let id = sqlx::query_scalar!(
                r#"SELECT id AS "id: ConversationId" FROM conversations
                   WHERE direct_low = $1 AND direct_high = $2"#,
                low as UserId,
                high as UserId,
            )
            .fetch_one(&mut *tx)
            .await?;
            (id, false)
        }
    };
    tx.commit().await?;
    Ok(result)
}

/// A new group of `members` (the creator included).
pub(crate) async fn create_group(
    db: &PgPool,
    members: &[UserId],
    title: Option<&str>,
) -> sqlx::Result<ConversationId> {
    let id = ConversationId::new_v7();
    let mut tx = db.begin().await?;
    sqlx::query!(
        "INSERT INTO conversations (id, kind, title) VALUES ($1, 'group', $2)",
        id as ConversationId,
        title,
    )
    .execute(&mut *tx)
    .await?;
    add_participants(&mut *tx, id, members).await?;
    tx.commit().await?;
    Ok(id)
}

async fn add_participants(
    db: impl PgExecutor<'_>,
    conversation: ConversationId,
    members: &[UserId],
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO participants (conversation_id, user_id) \
         SELECT $1, unnest($2::uuid[])",
        conversation as ConversationId,
        members as &[UserId],
    )
    .execute(db)
    .await
    .map(drop)
}

struct ConversationRow {
    kind: String,
    title: Option<String>,
    member_ids: Vec<UserId>,
    member_names: Vec<String>,
}

pub(crate) fn parse_kind(kind: &str) -> ConversationKind {
    if kind == "direct" {
        ConversationKind::Direct
    } else {
        ConversationKind::Group
    }
}

/// The conversation with its participants (by username), or `None` if it
/// does not exist.
pub(crate) async fn get(
    db: impl PgExecutor<'_>,
    id: ConversationId,
) -> sqlx::Result<Option<Conversation>> {
    let row = sqlx::query_as!(
        ConversationRow,
        r#"SELECT c.kind, c.title,
                  array_agg(u.id ORDER BY u.username) AS "member_ids!: Vec<UserId>",
                  array_agg(u.username ORDER BY u.username) AS "member_names!"
           FROM conversations c
           JOIN participants p ON p.conversation_id = c.id
           JOIN users u ON u.id = p.user_id
           WHERE c.id = $1
           GROUP BY c.id"#,
        id as ConversationId,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| Conversation {
        conversation_id: id,
        kind: parse_kind(&row.kind),
        title: row.title,
        participants: zip_members(row.member_ids, row.member_names),
    }))
}

pub(crate) fn zip_members(ids: Vec<UserId>, names: Vec<String>) -> Vec<UserSummary> {
    ids.into_iter()
        .zip(names)
        .map(|(user_id, username)| UserSummary { user_id, username })
        .collect()
}

/// The participants' ids; empty when the conversation does not exist (every
/// conversation has members).
pub(crate) async fn member_ids(
    db: impl PgExecutor<'_>,
    id: ConversationId,
) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT user_id AS "user_id: UserId" FROM participants WHERE conversation_id = $1"#,
        id as ConversationId,
    )
    .fetch_all(db)
    .await
}
