//! What every handler can reach.

use super::chat::ChatCore;
use super::config::Settings;
use super::limits::Limits;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub settings: Arc<Settings>,
    pub chat: Arc<ChatCore>,
    /// Every per-user and per-address budget.
    pub limits: Arc<Limits>,
    /// Attachments: the store and the rules uploads are held to.
    pub(crate) files: Arc<super::attachments::Files>,
    /// Where passwords are hashed, a few at a time.
    pub(crate) hasher: Arc<super::hashing::Hasher>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
