//! The whole HTTP surface: the JSON API, the WebSocket, server functions and
//! the server-rendered pages, then static files; behind the guards of
//! [`super::guard`].

use super::guard::{self, AuthLimiter};
use super::rest;
use super::state::AppState;
use crate::app::{App, shell};
use axum::Router;
use axum::middleware::from_fn_with_state;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::limit::RequestBodyLimitLayer;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let settings = state.settings.clone();
    let limiter = AuthLimiter::new(
        settings.auth_attempts_per_minute,
        settings.trust_proxy_headers,
    );
    let mut router = Router::new()
        .merge(rest::router())
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn_with_state(state.clone(), guard::same_origin_writes))
        .layer(from_fn_with_state(limiter, guard::limit_auth_attempts))
        .layer(RequestBodyLimitLayer::new(settings.max_body_bytes));
    for layer in guard::security_headers() {
        router = router.layer(layer);
    }
    router.with_state(state)
}
