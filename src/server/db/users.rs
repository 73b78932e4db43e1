//! Accounts.

use crate::protocol::{UserId, UserSummary};
use sqlx::PgExecutor;

/// What login needs: the stored hash, never sent anywhere.
pub(crate) struct UserCredentials {
    pub(crate) id: UserId,
    pub(crate) username: String,
    pub(crate) password_hash: String,
}

struct SummaryRow {
    id: UserId,
    username: String,
}

impl From<SummaryRow> for UserSummary {
    fn from(row: SummaryRow) -> Self {
        Self {
            user_id: row.id,
            username: row.username,
        }
    }
}

/// Inserts a new account; a taken name fails with the
/// `users_username_key` unique violation (409 upstream).
pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    id: UserId,
    username: &str,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO users (id, username, password_hash) VALUES ($1, $2, $3)",
        id as UserId,
        username,
        password_hash,
    )
    .execute(db)
    .await
    .map(drop)
}

pub(crate) async fn credentials(
    db: impl PgExecutor<'_>,
    username: &str,
) -> sqlx::Result<Option<UserCredentials>> {
    sqlx::query_as!(
        UserCredentials,
        r#"SELECT id AS "id: UserId", username, password_hash FROM users WHERE username = $1"#,
        username,
    )
    .fetch_optional(db)
    .await
}

/// Up to `limit` users whose name starts with `prefix`, in name order: a
/// range scan of the unique index (the column is in "C" collation).
pub(crate) async fn search_prefix(
    db: impl PgExecutor<'_>,
    prefix: &str,
    limit: i64,
) -> sqlx::Result<Vec<UserSummary>> {
    let pattern = format!("{}%", escape_like(prefix));
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT id AS "id: UserId", username FROM users WHERE username LIKE $1 ESCAPE '\'
           ORDER BY username LIMIT $2"#,
        pattern,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The users with these ids that exist, in no particular order.
pub(crate) async fn summaries(
    db: impl PgExecutor<'_>,
    ids: &[UserId],
) -> sqlx::Result<Vec<UserSummary>> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT id AS "id: UserId", username FROM users WHERE id = ANY($1)"#,
        ids as &[UserId],
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_in_a_prefix_are_literal() {
        assert_eq!(super::escape_like("a_b%c\\"), "a\\_b\\%c\\\\");
    }
}
