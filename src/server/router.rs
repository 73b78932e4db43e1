//! The whole HTTP surface: the JSON API, the WebSocket, server functions and
//! the server-rendered pages, then static files.

use super::rest;
use super::state::AppState;
use crate::app::{App, shell};
use axum::Router;
use leptos_axum::{LeptosRoutes, generate_route_list};

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .merge(rest::router())
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}
