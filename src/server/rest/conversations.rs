//! `/api/v1/conversations`, `/api/v1/chat/:id` (history), `/api/v1/chats/:user_id` (inbox).

use super::json::Body;
use crate::protocol::{
    ApiError, Conversation, ConversationId, CreateConversation, HistoryPage, Inbox, MessageId,
    UserId,
};
use crate::server::auth::CurrentUser;
use crate::server::conversations;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Body(request): Body<CreateConversation>,
) -> AppResult<(StatusCode, Json<Conversation>)> {
    let (conversation, created) =
        conversations::create(&state, &user, &request.participants, &request.title).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(conversation)))
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

pub(crate) async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Json<HistoryPage>> {
    // A malformed id names no conversation: 404, like any other.
    let Some(id) = ConversationId::parse(&conversation_id) else {
        return Err(ApiError::not_found("no such conversation").into());
    };
    let limit = match query.limit.as_deref() {
        None => conversations::DEFAULT_PAGE,
        Some(text) => text.parse().map_err(|_| {
            ApiError::invalid(
                "limit",
                format!("limit must be 1 to {}", conversations::MAX_PAGE),
            )
        })?,
    };
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(MessageId::parse(text).ok_or_else(|| {
            ApiError::invalid("cursor", "cursor is not a message of this conversation")
        })?),
    };
    Ok(Json(
        conversations::history(&state, &user, id, cursor.as_ref(), limit).await?,
    ))
}

pub(crate) async fn inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(user_id): Path<String>,
) -> AppResult<Json<Inbox>> {
    let Some(owner) = UserId::parse(&user_id) else {
        return Err(ApiError::forbidden("you can only read your own inbox").into());
    };
    Ok(Json(Inbox {
        chats: conversations::inbox(&state, &user, owner).await?,
    }))
}
