//! When people were last online, and who may see it.

use crate::protocol::UserId;
use sqlx::PgExecutor;

/// Those of `people` whom `me` may follow (themselves, or someone in a
/// conversation with them now), in the order asked, each with when they
/// were last seen (ms since the epoch). One statement.
pub(crate) async fn visible_to(
    db: impl PgExecutor<'_>,
    me: UserId,
    people: &[UserId],
) -> sqlx::Result<Vec<(UserId, Option<i64>)>> {
    let rows = sqlx::query!(
        r#"SELECT u.id AS "id!: UserId",
                  (extract(epoch FROM u.last_seen_at) * 1000)::int8 AS "last_seen_ms"
           FROM unnest($2::uuid[]) WITH ORDINALITY AS asked(id, n)
           JOIN users u ON u.id = asked.id
           WHERE u.id = $1 OR EXISTS (
               SELECT 1 FROM participants mine
               JOIN participants theirs ON theirs.conversation_id = mine.conversation_id
               WHERE mine.user_id = $1 AND mine.left_at IS NULL
                 AND theirs.user_id = u.id AND theirs.left_at IS NULL)
           ORDER BY asked.n"#,
        me as UserId,
        people as &[UserId],
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.last_seen_ms)).collect())
}

/// Stores when each of `people` was last seen (a time never moves back).
/// One statement for every user that went offline in one moment.
pub(crate) async fn store_last_seen(
    db: impl PgExecutor<'_>,
    people: &[UserId],
    at_ms: &[i64],
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE users u SET last_seen_at = to_timestamp(s.at::float8 / 1000)
           FROM unnest($1::uuid[], $2::int8[]) AS s(id, at)
           WHERE u.id = s.id
             AND (u.last_seen_at IS NULL OR u.last_seen_at < to_timestamp(s.at::float8 / 1000))"#,
        people as &[UserId],
        at_ms,
    )
    .execute(db)
    .await
    .map(drop)
}
