//! `GET /api/v1/ws`: authentication and the origin check happen before the
//! upgrade (401 / 403 as plain HTTP answers); the connection itself lives in
//! [`connection`].

mod connection;
pub(crate) mod origin;

use super::auth::CurrentUser;
use super::error::AppResult;
use super::limits::Action;
use super::state::AppState;
use crate::protocol::{ApiError, MAX_FRAME_BYTES};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;

/// Frames past this size end the connection (abuse); frames between
/// [`MAX_FRAME_BYTES`] and this get a `too_large` error and the connection
/// stays open.
const HARD_FRAME_LIMIT: usize = 1024 * 1024;
/// The read buffer is allocated up front for every connection, so it is
/// kept small; it grows for a large frame and shrinks back.
const READ_BUFFER: usize = 4 * 1024;

pub(crate) async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: CurrentUser,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    if !origin::is_allowed(&headers, &state.settings.allowed_origins) {
        return Err(ApiError::forbidden("cross-site WebSocket connections are refused").into());
    }
    state.limits.check(user.id, Action::Connect)?;
    let registered = connection::register(&user, &state);
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(HARD_FRAME_LIMIT.max(MAX_FRAME_BYTES * 2))
        .max_frame_size(HARD_FRAME_LIMIT)
        .on_upgrade(move |socket| connection::serve(socket, user, state, registered)))
}
