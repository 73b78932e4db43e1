//! The `/api/v1` JSON API. Handlers are thin: they read the request, call the
//! shared operations in `server::accounts` / `server::conversations`, and shape the
//! answer. Every error is an [`ApiError`] body with the matching status.

mod accounts;
mod conversations;
mod json;
mod search;

use super::state::AppState;
use super::ws;
use axum::Router;
use axum::routing::{get, post, put};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/register", post(accounts::register))
        .route("/api/v1/auth/login", post(accounts::login))
        .route("/api/v1/auth/logout", post(accounts::logout))
        .route("/api/v1/me", get(accounts::me))
        .route("/api/v1/users", get(accounts::users))
        .route("/api/v1/conversations", post(conversations::create))
        .route(
            "/api/v1/conversations/{conversation_id}",
            get(conversations::get),
        )
        .route(
            "/api/v1/conversations/{conversation_id}/leave",
            post(conversations::leave),
        )
        .route(
            "/api/v1/conversations/{conversation_id}/mute",
            put(conversations::mute).delete(conversations::unmute),
        )
        .route(
            "/api/v1/users/{user_id}/block",
            put(conversations::block).delete(conversations::unblock),
        )
        .route(
            "/api/v1/chat/{conversation_id}",
            get(conversations::history),
        )
        .route(
            "/api/v1/chat/{conversation_id}/changes",
            get(conversations::changes),
        )
        .route("/api/v1/chats/{user_id}", get(conversations::inbox))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/ws", get(ws::upgrade))
}
