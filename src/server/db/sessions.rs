//! Sessions, looked up by the SHA-256 of the client's token.

use crate::protocol::UserId;
use sqlx::PgExecutor;

/// The signed-in user behind a session.
#[derive(Clone, Debug)]
pub(crate) struct SessionUser {
    pub(crate) id: UserId,
    pub(crate) username: String,
    /// When the session ends (seconds since the epoch), as extended by this
    /// use.
    pub(crate) expires_at: i64,
}

/// How long sessions last: `days` after their last use, and never more than
/// `max_days` after they began.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lifetime {
    pub(crate) days: i32,
    pub(crate) max_days: i32,
}

impl Lifetime {
    /// A new session's lifetime, in seconds.
    pub(crate) fn new_session_secs(self) -> i64 {
        i64::from(self.days.min(self.max_days)) * 86_400
    }
}

pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user: UserId,
    lifetime: Lifetime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, expires_at) \
         VALUES ($1, $2, now() + make_interval(days => least($3::int4, $4::int4)))",
        token_hash,
        user as UserId,
        lifetime.days,
        lifetime.max_days,
    )
    .execute(db)
    .await
    .map(drop)
}

/// The session's user if it is live. A session in use is extended to
/// `days` from now, but never past `max_days` after it began; at most once
/// a day (so reads stay reads almost always), and in its last day before
/// the cap once, to the cap.
pub(crate) async fn user(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    lifetime: Lifetime,
) -> sqlx::Result<Option<SessionUser>> {
    sqlx::query_as!(
        SessionUser,
        r#"WITH live AS (
             SELECT user_id, expires_at,
                    least(now() + make_interval(days => $2),
                          created_at + make_interval(days => $3)) AS until
             FROM sessions
             WHERE token_hash = $1 AND expires_at > now()
               AND created_at > now() - make_interval(days => $3)),
         touched AS (
             UPDATE sessions SET expires_at = live.until FROM live
             WHERE token_hash = $1
               AND (live.expires_at < live.until - interval '1 day'
                    -- The last day before the cap: straight to it, once.
                    OR (live.until < now() + interval '1 day' AND live.expires_at < live.until))
             RETURNING sessions.expires_at)
         SELECT u.id AS "id: UserId", u.username,
                extract(epoch FROM coalesce((SELECT expires_at FROM touched), live.expires_at))::int8
                    AS "expires_at!"
         FROM live JOIN users u ON u.id = live.user_id"#,
        token_hash,
        lifetime.days,
        lifetime.max_days,
    )
    .fetch_optional(db)
    .await
}

/// Those of `hashes` that are live sessions.
pub(crate) async fn live(
    db: impl PgExecutor<'_>,
    hashes: &[Vec<u8>],
    lifetime: Lifetime,
) -> sqlx::Result<Vec<Vec<u8>>> {
    sqlx::query_scalar!(
        "SELECT token_hash FROM sessions \
         WHERE token_hash = ANY($1) AND expires_at > now() \
           AND created_at > now() - make_interval(days => $2)",
        hashes,
        lifetime.max_days,
    )
    .fetch_all(db)
    .await
}

/// Deletes up to `limit` ended sessions (expired, or past their absolute
/// lifetime); how many it deleted.
pub(crate) async fn delete_ended(
    db: impl PgExecutor<'_>,
    lifetime: Lifetime,
    limit: i64,
) -> sqlx::Result<u64> {
    sqlx::query!(
        "DELETE FROM sessions WHERE token_hash IN \
           (SELECT token_hash FROM sessions WHERE expires_at <= now() LIMIT $1) \
         OR token_hash IN \
           (SELECT token_hash FROM sessions \
            WHERE created_at <= now() - make_interval(days => $2) LIMIT $1)",
        limit,
        lifetime.max_days,
    )
    .execute(db)
    .await
    .map(|done| done.rows_affected())
}

/// Ends the session for every client that holds it.
pub(crate) async fn delete(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash)
        .execute(db)
        .await
        .map(drop)
}
