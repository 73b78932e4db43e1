//! What a server function reads from its request.

use crate::protocol::ApiError;
use crate::server::auth::{self, CurrentUser};
use crate::server::state::AppState;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use leptos::prelude::use_context;

/// The app state and the request's headers.
pub(crate) fn request() -> Result<(AppState, HeaderMap), ApiError> {
    let state = use_context::<AppState>().ok_or_else(ApiError::internal)?;
    let parts = use_context::<Parts>().ok_or_else(ApiError::internal)?;
    Ok((state, parts.headers))
}

/// The signed-in user, or `unauthorized`.
pub(crate) async fn signed_in() -> Result<(AppState, HeaderMap, CurrentUser), ApiError> {
    let (state, headers) = request()?;
    let user = auth::current_user(&state, &headers)
        .await
        .map_err(|e| e.to_api())?
        .ok_or_else(ApiError::unauthorized)?;
    Ok((state, headers, user))
}

/// Adds a header to the server function's (or page's) response.
pub(crate) fn set_header(name: axum::http::HeaderName, value: axum::http::HeaderValue) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(name, value);
    }
}
