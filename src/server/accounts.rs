//! Account operations shared by the REST API and the pages' server functions.

use super::auth::{self, CurrentUser};
use super::chat::fanout::NodeEvent;
use super::chat::hub::Kick;
use super::db;
use super::error::AppResult;
use super::limits::Action;
use super::state::AppState;
use crate::protocol::{ApiError, AuthResponse, ErrorCode, Password, UserId, UserSummary, Username};

/// The most users one search returns.
pub(crate) const SEARCH_LIMIT: i64 = 20;

/// Creates the account and its first session (the types have held the
/// input to its rules); a taken name is a 409 from the unique constraint (so
/// two racing sign-ups cannot both win).
pub(crate) async fn register(
    state: &AppState,
    username: &Username,
    password: &Password,
) -> AppResult<AuthResponse> {
    let hash = auth::hash_password(&state.hasher, password.as_str().to_owned()).await?;
    let id = UserId::new_v7();
    db::users::insert(&state.db, id, username, &hash).await?;
    open_session(state, id, username).await
}

/// One message for a wrong name and a wrong password, and the same work for
/// both, so neither the answer nor its timing tells which names exist. An
/// account whose failed log-ins are over budget (someone guessing its
/// password) is refused without trying, until the budget refills.
pub(crate) async fn login(
    state: &AppState,
    username: &str,
    password: &str,
) -> AppResult<AuthResponse> {
    if !state.limits.may_try_login(username) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many failed log-ins for this account; try again later",
        )
        .into());
    }
    let found = db::users::credentials(&state.db, username).await?;
    let hash = found.as_ref().map(|c| c.password_hash.clone());
    let ok = auth::verify_password(&state.hasher, password.to_owned(), hash).await?;
    match found {
        Some(user) if ok => open_session(state, user.id, &user.username).await,
        _ => {
            state.limits.login_failed(username);
            Err(ApiError::new(ErrorCode::Unauthorized, "Wrong username or password").into())
        }
    }
}

async fn open_session(state: &AppState, id: UserId, username: &str) -> AppResult<AuthResponse> {
    let (token, hash) = auth::new_token();
    db::sessions::insert(&state.db, &hash, id, state.settings.session_lifetime()).await?;
    Ok(AuthResponse {
        user_id: id,
        username: username.to_owned(),
        token,
    })
}

/// Ends the session for the cookie and the bearer token alike, and closes
/// the WebSockets opened with it, on this node and every other.
pub(crate) async fn logout(state: &AppState, user: &CurrentUser) -> AppResult<()> {
    db::sessions::delete(&state.db, &user.token_hash).await?;
    let chat = &state.chat;
    chat.hub
        .kick_session(user.id, &user.token_hash, Kick::SignedOut);
    chat.fanout.tell_others(NodeEvent::SessionEnded {
        user: user.id,
        session: auth::session_hex(&user.token_hash),
    });
    Ok(())
}

/// Users whose name starts with `prefix` (case-insensitive: names are
/// lowercase), as `me` searches.
pub(crate) async fn search(
    state: &AppState,
    me: &CurrentUser,
    prefix: &str,
) -> AppResult<Vec<UserSummary>> {
    state.limits.check(me.id, Action::PeopleSearch)?;
    let prefix = prefix.trim().to_lowercase();
    // No name holds anything but a-z, 0-9 and _ (nor could PostgreSQL
    // compare a NUL): such a prefix matches nobody.
    if prefix.chars().count() > crate::protocol::USERNAME_MAX
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Ok(Vec::new());
    }
    Ok(db::users::search_prefix(&state.db, &prefix, SEARCH_LIMIT).await?)
}
