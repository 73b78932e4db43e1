//! Sessions, looked up by the SHA-256 of the client's token.

use crate::protocol::UserId;
use sqlx::PgExecutor;

/// The signed-in user behind a session.
#[derive(Clone, Debug)]
pub(crate) struct SessionUser {
    pub(crate) id: UserId,
    pub(crate) username: String,
}

pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user: UserId,
    days: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, expires_at) \
         VALUES ($1, $2, now() + make_interval(days => $3))",
        token_hash,
        user as UserId,
        days,
    )
    .execute(db)
    .await
    .map(drop)
}

/// The session's user if it is live. A session in use is extended to `days`
/// from now, at most once a day (so reads stay reads almost always).
pub(crate) async fn user(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    days: i32,
) -> sqlx::Result<Option<SessionUser>> {
    sqlx::query_as!(
        SessionUser,
        r#"WITH live AS (
             SELECT user_id, expires_at FROM sessions
             WHERE token_hash = $1 AND expires_at > now()),
         touched AS (
             UPDATE sessions SET expires_at = now() + make_interval(days => $2)
             WHERE token_hash = $1 AND EXISTS (SELECT 1 FROM live
                 WHERE live.expires_at < now() + make_interval(days => $2) - interval '1 day'))
         SELECT u.id AS "id: UserId", u.username FROM live JOIN users u ON u.id = live.user_id"#,
        token_hash,
        days,
    )
    .fetch_optional(db)
    .await
}

/// Ends the session for every client that holds it.
pub(crate) async fn delete(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash)
        .execute(db)
        .await
        .map(drop)
}
