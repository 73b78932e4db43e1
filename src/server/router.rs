//! The whole HTTP surface: the JSON API, the WebSocket, server functions and
//! the server-rendered pages, then static files; behind the guards of
//! [`super::guard`].

use super::attachments;
use super::guard;
use super::http::{self, BodyLimits};
use super::rest;
use super::site;
use super::state::AppState;
use crate::app::{App, shell};
use crate::protocol::ApiError;
use axum::Router;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Extensions, HeaderMap, StatusCode, Version};
use axum::middleware::Next;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::time::Duration;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};

pub(crate) fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let settings = state.settings.clone();
    // The site's files (the WebAssembly bundle, CSS, assets); any other path
    // gets the app's 404 page. (Not leptos_axum's `file_and_error_handler`:
    // it looks up response options through whatever reactive owner the
    // worker thread last had, and so can carry a page's headers or status off
    // to a file request running beside it.)
    let not_found = leptos_axum::render_app_async_with_context(
        {
            let state = state.clone();
            move || provide_context(state.clone())
        },
        {
            let options = options.clone();
            move || shell(options.clone())
        },
    );
    let static_files = site::files(&options, not_found.into_service());
    // Everything but files is read whole before its handler runs, within
    // `max-body-bytes` and a deadline; pages and JSON are compressed.
    let buffered = Router::new()
        .merge(rest::router())
        .leptos_routes(&state, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback_service(static_files)
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn(guard::page_security_policy))
        .layer(compression())
        .layer(from_fn_with_state(
            BodyLimits {
                deadline: Duration::from_secs(settings.request_body_timeout_secs.max(1)),
                max_bytes: settings.max_body_bytes,
            },
            http::read_body_in_time,
        ));
    // Files stream both ways under their own limits (docs/protocol.md
    // 3.14, 3.15), untouched by compression and by the pages' policy.
    let mut router = buffered
        .merge(attachments::routes::router())
        .layer(from_fn_with_state(state.clone(), guard::same_origin_writes))
        .layer(from_fn_with_state(
            state.clone(),
            guard::limit_auth_attempts,
        ));
    for layer in guard::security_headers() {
        router = router.layer(layer);
    }
    router.with_state(state)
}

/// Pages and JSON answers are compressed as they go out, with brotli or
/// gzip at a quick level (4): a page that lists 200 conversations is over
/// 200 KB of HTML, most of which a slow phone connection would otherwise
/// spend seconds on. The bundle has copies compressed at build time, and
/// nothing else (the WebSocket's upgrade, images) is touched.
fn compression() -> CompressionLayer<impl Predicate> {
    let dynamic = |_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions| {
        headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"))
    };
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(DefaultPredicate::new().and(dynamic))
}

/// Leptos answers every failed server function with 500, whatever the
/// error; a client (and a log) deserves the status its code means: 401 for a
/// wrong password, 404 for someone else's conversation. A plain form post is
/// answered with a redirect back to its page (the error rides in the URL)
/// and is left alone.
async fn server_fn_status(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let response = next.run(request).await;
    if !server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return ApiError::internal().into_response();
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.code.http_status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
