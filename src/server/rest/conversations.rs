//! `/api/v1/conversations` (start, look at, leave), `/api/v1/users/:id/block`,
//! `/api/v1/chat/:id` (history), `/api/v1/chats/:user_id` (inbox).

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

/// `GET /api/v1/conversations/{id}`: its members and former members; 404
/// unless the caller is a member.
pub(crate) async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
) -> AppResult<Json<Conversation>> {
    let id = parse_conversation(&conversation_id)?;
    Ok(Json(conversations::get(&state, &user, id).await?))
}

/// A malformed id names no conversation: 404, like any other.
fn parse_conversation(text: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(text).ok_or_else(|| ApiError::not_found("no such conversation"))
}

/// `?cursor=&limit=` of a paged list.
#[derive(Deserialize)]
pub(crate) struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

impl PageQuery {
    fn limit(&self, default: i64) -> Result<i64, ApiError> {
        match self.limit.as_deref() {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                ApiError::invalid(
                    "limit",
                    format!("limit must be 1 to {}", conversations::MAX_PAGE),
                )
            }),
        }
    }
}

pub(crate) async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Json<HistoryPage>> {
    let id = parse_conversation(&conversation_id)?;
    let limit = query.limit(conversations::DEFAULT_PAGE)?;
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
    Query(query): Query<PageQuery>,
) -> AppResult<Json<Inbox>> {
    let Some(owner) = UserId::parse(&user_id) else {
        return Err(ApiError::forbidden("you can only read your own inbox").into());
    };
    let limit = query.limit(conversations::INBOX_PAGE)?;
    Ok(Json(
        conversations::inbox(&state, &user, owner, query.cursor.as_deref(), limit).await?,
    ))
}

/// `POST /api/v1/conversations/{id}/leave`: 204.
pub(crate) async fn leave(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
) -> AppResult<StatusCode> {
    let id = parse_conversation(&conversation_id)?;
    conversations::leave(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/users/{id}/block`: 204.
pub(crate) async fn block(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(user_id): Path<String>,
) -> AppResult<StatusCode> {
    set_block(state, user, user_id, true).await
}

/// `DELETE /api/v1/users/{id}/block`: 204.
pub(crate) async fn unblock(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(user_id): Path<String>,
) -> AppResult<StatusCode> {
    set_block(state, user, user_id, false).await
}

async fn set_block(
    state: AppState,
    user: CurrentUser,
    user_id: String,
    blocked: bool,
) -> AppResult<StatusCode> {
    let Some(other) = UserId::parse(&user_id) else {
        return Err(ApiError::not_found("no such user").into());
    };
    conversations::block(&state, &user, other, blocked).await?;
    Ok(StatusCode::NO_CONTENT)
}
