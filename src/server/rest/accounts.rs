//! `/api/v1/auth/*`, `/api/v1/me`, `/api/v1/users`.

use super::json::Body;
use crate::protocol::{AuthResponse, Credentials, NewAccount, UserList, UserSummary};
use crate::server::accounts;
use crate::server::auth::{self, CurrentUser};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header::SET_COOKIE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

fn with_session(
    state: &AppState,
    status: StatusCode,
    headers: &HeaderMap,
    body: AuthResponse,
) -> Response {
    let cookie = auth::session_cookie(
        &body.token,
        state.settings.session_lifetime().new_session_secs(),
        headers,
    );
    (status, [(SET_COOKIE, cookie)], Json(body)).into_response()
}

pub(crate) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(account): Body<NewAccount>,
) -> AppResult<Response> {
    let body = accounts::register(&state, &account.username, &account.password).await?;
    Ok(with_session(&state, StatusCode::CREATED, &headers, body))
}

pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(credentials): Body<Credentials>,
) -> AppResult<Response> {
    let body = accounts::login(&state, &credentials.username, &credentials.password).await?;
    Ok(with_session(&state, StatusCode::OK, &headers, body))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(user) = auth::current_user(&state, &headers).await? {
        accounts::logout(&state, &user).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, auth::clear_cookie(&headers))],
    )
        .into_response())
}

pub(crate) async fn me(user: CurrentUser) -> Json<UserSummary> {
    Json(UserSummary {
        user_id: user.id,
        username: user.username,
    })
}

#[derive(Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
}

pub(crate) async fn users(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(search): Query<Search>,
) -> AppResult<Json<UserList>> {
    Ok(Json(UserList {
        users: accounts::search(&state, &user, &search.q).await?,
    }))
}
