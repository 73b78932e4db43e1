//! The server's error type. Turning one into a response logs the cause and
//! shows the client a clean [`ApiError`].

use crate::protocol::{ApiError, ErrorCode};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    /// Something the client can act on, shown as it is.
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

pub(crate) type AppResult<T> = Result<T, AppError>;

/// What a unique-constraint violation means to the client, by constraint name.
fn conflict_for(constraint: &str) -> Option<ApiError> {
    match constraint {
        "users_username_key" => Some(ApiError {
            field: Some("username".into()),
            ..ApiError::new(ErrorCode::Conflict, "That username is taken")
        }),
        "messages_message_id_key" => Some(ApiError::new(
            ErrorCode::Conflict,
            "that message_id is already used by another message",
        )),
        _ => None,
    }
}

/// True when the database could not be reached or is shutting down: the
/// operation did not happen and may be retried.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // admin_shutdown, crash_shutdown, cannot_connect_now, and the
        // connection-exception class.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| matches!(&*c, "57P01" | "57P02" | "57P03") || c.starts_with("08")),
        _ => false,
    }
}

impl AppError {
    /// The error as the client sees it; causes it must not see are logged.
    pub(crate) fn to_api(&self) -> ApiError {
        match self {
            Self::Api(api) => api.clone(),
            Self::Db(sqlx::Error::Database(db))
                if db.is_unique_violation() && db.constraint().and_then(conflict_for).is_some() =>
            {
                db.constraint()
                    .and_then(conflict_for)
                    .unwrap_or_else(ApiError::internal)
            }
            Self::Db(e) if is_unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "the database is unavailable right now; try again shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.to_api().into_response()
    }
}
