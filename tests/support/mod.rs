//! What the integration tests (`tests/integration`) and the load benchmark
//! (`benches/load`) both need, written once and included by each (they are
//! separate crates): fresh databases, accounts and conversations through
//! the public API, message ids and the clock.

// Each includer uses its part.
#![allow(dead_code)]

use serde::Deserialize;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use std::time::{SystemTime, UNIX_EPOCH};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Milliseconds since the epoch, as clients stamp their messages.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A fresh client-made message id, as the web client makes them (`msg_` +
/// UUIDv7).
pub fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// The URL of another database on the server `url` names.
pub fn url_for(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    if query.is_empty() {
        format!("{server}/{database}")
    } else {
        format!("{server}/{database}?{query}")
    }
}

/// Creates a new, empty database named `<prefix>_<unix time>_<unique>`
/// (natter applies its migrations when it starts on it) and returns its
/// name. Databases of this prefix made over an hour ago (left by runs that
/// crashed) are dropped on the way.
pub async fn fresh_database(admin: &mut PgConnection, prefix: &str) -> Result<String, Error> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let name = format!("{prefix}_{now}_{}", uuid::Uuid::now_v7().simple());
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname ~ ('^' || $1 || '_[0-9]+_') \
         AND split_part(substr(datname, length($1) + 2), '_', 1)::int8 < $2",
    )
    .bind(prefix)
    .bind(i64::try_from(now)? - 3600)
    .fetch_all(&mut *admin)
    .await?;
    for old in stale {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)"))
            .execute(&mut *admin)
            .await;
    }
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut *admin)
        .await?;
    Ok(name)
}

/// Drops a database made by [`fresh_database`].
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), Error> {
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

/// An account signed up through the API: its id and session token.
#[derive(Clone, Debug, Deserialize)]
pub struct Account {
    pub user_id: String,
    pub token: String,
}

/// Signs `username` up on the server at `base` (`http://host:port`).
pub async fn register(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Result<Account, Error> {
    let response = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await?;
    match response.status().as_u16() {
        201 => Ok(response.json().await?),
        429 => Err(
            "sign-up refused with 429: the server limits sign-ups per address \
                    (raise NATTER_AUTH_ATTEMPTS_PER_MINUTE)"
                .into(),
        ),
        status => Err(format!("sign-up of {username}: HTTP {status}").into()),
    }
}

/// A direct chat (one other participant) or a new group (more), made by the
/// holder of `token`; its id.
pub async fn conversation(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    participants: &[String],
    title: Option<&str>,
) -> Result<String, Error> {
    #[derive(Deserialize)]
    struct Created {
        conversation_id: String,
    }
    let response = http
        .post(format!("{base}/api/v1/conversations"))
        .bearer_auth(token)
        .json(&json!({"participants": participants, "title": title}))
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("creating a conversation: HTTP {status}").into());
    }
    Ok(response.json::<Created>().await?.conversation_id)
}
