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
    former_ids: Vec<UserId>,
    former_names: Vec<String>,
}

pub(crate) fn parse_kind(kind: &str) -> ConversationKind {
    if kind == "direct" {
        ConversationKind::Direct
    } else {
        ConversationKind::Group
    }
}

/// The conversation with its members and those who left (by username), or
/// `None` if it does not exist.
pub(crate) async fn get(
    db: impl PgExecutor<'_>,
    id: ConversationId,
) -> sqlx::Result<Option<Conversation>> {
    let row = sqlx::query_as!(
        ConversationRow,
        r#"SELECT c.kind, c.title,
                  coalesce(array_agg(u.id ORDER BY u.username) FILTER (WHERE p.left_at IS NULL),
                           '{}') AS "member_ids!: Vec<UserId>",
                  coalesce(array_agg(u.username ORDER BY u.username) FILTER (WHERE p.left_at IS NULL),
                           '{}') AS "member_names!",
                  coalesce(array_agg(u.id ORDER BY u.username) FILTER (WHERE p.left_at IS NOT NULL),
                           '{}') AS "former_ids!: Vec<UserId>",
                  coalesce(array_agg(u.username ORDER BY u.username) FILTER (WHERE p.left_at IS NOT NULL),
                           '{}') AS "former_names!"
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
        former_participants: zip_members(row.former_ids, row.former_names),
        markers: Vec::new(),
        muted: false,
    }))
}

pub(crate) fn zip_members(ids: Vec<UserId>, names: Vec<String>) -> Vec<UserSummary> {
    ids.into_iter()
        .zip(names)
        .map(|(user_id, username)| UserSummary { user_id, username })
        .collect()
}

/// Who is in a conversation now, and whether it is a direct chat one of
/// whose two people has blocked the other.
pub(crate) struct MemberRows {
    pub(crate) ids: Vec<UserId>,
    pub(crate) blocked: bool,
}

/// The members' ids (empty when the conversation does not exist, or
/// everyone left it), and whether it is a blocked direct chat.
pub(crate) async fn members(
    db: impl PgExecutor<'_>,
    id: ConversationId,
) -> sqlx::Result<MemberRows> {
    let rows = sqlx::query!(
        r#"SELECT p.user_id AS "user_id: UserId",
                  EXISTS (SELECT 1 FROM blocks b
                          WHERE (b.blocker = c.direct_low AND b.blocked = c.direct_high)
                             OR (b.blocker = c.direct_high AND b.blocked = c.direct_low)) AS "blocked!"
           FROM participants p JOIN conversations c ON c.id = p.conversation_id
           WHERE p.conversation_id = $1 AND p.left_at IS NULL"#,
        id as ConversationId,
    )
    .fetch_all(db)
    .await?;
    Ok(MemberRows {
        blocked: rows.first().is_some_and(|r| r.blocked),
        ids: rows.into_iter().map(|r| r.user_id).collect(),
    })
}

/// What leaving did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leaving {
    /// `user` left the group.
    Left,
    /// `user` is not in it (never was, or left before), or it does not
    /// exist.
    NotAMember,
    /// It is a direct chat: nobody leaves one.
    Direct,
}

/// `user` leaves the group `id`: their row stays, marked.
pub(crate) async fn leave(
    db: impl PgExecutor<'_>,
    id: ConversationId,
    user: UserId,
) -> sqlx::Result<Leaving> {
    let row = sqlx::query!(
        r#"WITH target AS (
             SELECT c.kind FROM participants p JOIN conversations c ON c.id = p.conversation_id
             WHERE p.conversation_id = $1 AND p.user_id = $2 AND p.left_at IS NULL),
           gone AS (
             UPDATE participants SET left_at = now()
             WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL
               AND EXISTS (SELECT 1 FROM target WHERE kind = 'group')
             RETURNING 1)
           SELECT (SELECT kind FROM target) AS "kind?", EXISTS (SELECT 1 FROM gone) AS "left!""#,
        id as ConversationId,
        user as UserId,
    )
    .fetch_one(db)
    .await?;
    Ok(match (row.kind.as_deref(), row.left) {
        (_, true) => Leaving::Left,
        (Some("direct"), false) => Leaving::Direct,
        _ => Leaving::NotAMember,
    })
}

/// `blocker` blocks `blocked` (again is a no-op). False when `blocked` is
/// nobody.
pub(crate) async fn block(
    db: impl PgExecutor<'_>,
    blocker: UserId,
    blocked: UserId,
) -> sqlx::Result<bool> {
    let row = sqlx::query!(
        r#"WITH them AS (SELECT id FROM users WHERE id = $2),
           added AS (
             INSERT INTO blocks (blocker, blocked) SELECT $1, id FROM them
             ON CONFLICT DO NOTHING)
           SELECT EXISTS (SELECT 1 FROM them) AS "exists!""#,
        blocker as UserId,
        blocked as UserId,
    )
    .fetch_one(db)
    .await?;
    Ok(row.exists)
}

/// `blocker` no longer blocks `blocked`.
pub(crate) async fn unblock(
    db: impl PgExecutor<'_>,
    blocker: UserId,
    blocked: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM blocks WHERE blocker = $1 AND blocked = $2",
        blocker as UserId,
        blocked as UserId,
    )
    .execute(db)
    .await
    .map(drop)
}

/// Whether `blocker` blocks `blocked`.
pub(crate) async fn has_blocked(
    db: impl PgExecutor<'_>,
    blocker: UserId,
    blocked: UserId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM blocks
                          WHERE blocker = $1 AND blocked = $2) AS "blocked!""#,
        blocker as UserId,
        blocked as UserId,
    )
    .fetch_one(db)
    .await
}

/// Whether anyone among `people` has blocked anyone else among them.
pub(crate) async fn any_blocked(db: impl PgExecutor<'_>, people: &[UserId]) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM blocks
                          WHERE blocker = ANY($1) AND blocked = ANY($1)) AS "blocked!""#,
        people as &[UserId],
    )
    .fetch_one(db)
    .await
}

/// The direct chat between `a` and `b`, if there is one.
pub(crate) async fn direct_between(
    db: impl PgExecutor<'_>,
    a: UserId,
    b: UserId,
) -> sqlx::Result<Option<ConversationId>> {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    sqlx::query_scalar!(
        r#"SELECT id AS "id: ConversationId" FROM conversations
           WHERE direct_low = $1 AND direct_high = $2"#,
        low as UserId,
        high as UserId,
    )
    .fetch_optional(db)
    .await
}

/// What muting did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Muting {
    /// The flag changed.
    Changed,
    /// It was already so.
    Unchanged,
    /// `user` is not in the conversation (never was, or left), or it does
    /// not exist.
    NotAMember,
}

/// Sets whether `user` muted conversation `id`: one statement on their row.
pub(crate) async fn set_muted(
    db: impl PgExecutor<'_>,
    id: ConversationId,
    user: UserId,
    muted: bool,
) -> sqlx::Result<Muting> {
    let row = sqlx::query!(
        r#"WITH mine AS (
             SELECT muted FROM participants
             WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL),
           changed AS (
             UPDATE participants SET muted = $3
             WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL
               AND muted <> $3
             RETURNING 1)
           SELECT EXISTS (SELECT 1 FROM mine) AS "member!",
                  EXISTS (SELECT 1 FROM changed) AS "changed!""#,
        id as ConversationId,
        user as UserId,
        muted,
    )
    .fetch_one(db)
    .await?;
    Ok(match (row.member, row.changed) {
        (false, _) => Muting::NotAMember,
        (true, true) => Muting::Changed,
        (true, false) => Muting::Unchanged,
    })
}

/// Whether `user` muted conversation `id` (false when not a member).
pub(crate) async fn is_muted(
    db: impl PgExecutor<'_>,
    id: ConversationId,
    user: UserId,
) -> sqlx::Result<bool> {
    let muted = sqlx::query_scalar!(
        "SELECT muted FROM participants WHERE conversation_id = $1 AND user_id = $2",
        id as ConversationId,
        user as UserId,
    )
    .fetch_optional(db)
    .await?;
    Ok(muted.unwrap_or(false))
}
