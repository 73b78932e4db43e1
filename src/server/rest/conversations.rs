//! `/api/v1/conversations` (start, look at, leave, mute), `/api/v1/users/:id/block`,
//! `/api/v1/chat/:id` (history), `/api/v1/chats/:user_id` (inbox).

use super::json::Body;
use crate::protocol::{
    ApiError, ChangesPage, Conversation, ConversationId, CreateConversation, Inbox, MessageId,
    UserId,
};
use crate::server::auth::CurrentUser;
use crate::server::conversations::{self, Window};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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

/// `?cursor=&limit=` of a paged list (and `around=` and `after=` of a
/// history page).
#[derive(Deserialize)]
pub(crate) struct PageQuery {
    cursor: Option<String>,
    around: Option<String>,
    after: Option<String>,
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

/// A message id given as `field`, empty counting as none.
fn message_param(text: Option<&str>, field: &str) -> Result<Option<MessageId>, ApiError> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => MessageId::parse(text).map(Some).ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("{field} is not a message of this conversation"),
            )
        }),
    }
}

pub(crate) async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let id = parse_conversation(&conversation_id)?;
    let limit = query.limit(conversations::DEFAULT_PAGE)?;
    let cursor = message_param(query.cursor.as_deref(), "cursor")?;
    let around = message_param(query.around.as_deref(), "around")?;
    let after = message_param(query.after.as_deref(), "after")?;
    let window = match (&cursor, &around, &after) {
        (None, None, None) => Window::Newest,
        (Some(cursor), None, None) => Window::Before(cursor),
        (None, Some(around), None) => Window::Around(around, (limit - 1) / 2),
        (None, None, Some(after)) => Window::After(after),
        (Some(_), Some(_), None) => {
            return Err(
                ApiError::invalid("around", "give either cursor or around, not both").into(),
            );
        }
        _ => {
            return Err(
                ApiError::invalid("after", "give only one of cursor, around and after").into(),
            );
        }
    };
    // Pages that can be paged newer say where the next newer one starts;
    // the others are as they always were.
    let both_ways = around.is_some() || after.is_some();
    let page = conversations::history_window(&state, &user, id, window, limit).await?;
    Ok(if both_ways {
        Json(page).into_response()
    } else {
        Json(page.page).into_response()
    })
}

/// `?since=&limit=` of the change stream.
#[derive(Deserialize)]
pub(crate) struct ChangesQuery {
    since: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/chat/{id}/changes?since=`: what changed after a point.
pub(crate) async fn changes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
    Query(query): Query<ChangesQuery>,
) -> AppResult<Json<ChangesPage>> {
    let id = parse_conversation(&conversation_id)?;
    let since = match query.since.as_deref() {
        None | Some("") => 0,
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::invalid("since", "since must be a change number (0 or more)"))?,
    };
    let limit = PageQuery {
        cursor: None,
        around: None,
        after: None,
        limit: query.limit,
    }
    .limit(conversations::MAX_PAGE)?;
    Ok(Json(
        conversations::changes(&state, &user, id, since, limit).await?,
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

/// `PUT /api/v1/conversations/{id}/mute`: 204.
pub(crate) async fn mute(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
) -> AppResult<StatusCode> {
    let id = parse_conversation(&conversation_id)?;
    conversations::mute(&state, &user, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/conversations/{id}/mute`: 204.
pub(crate) async fn unmute(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation_id): Path<String>,
) -> AppResult<StatusCode> {
    let id = parse_conversation(&conversation_id)?;
    conversations::mute(&state, &user, id, false).await?;
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
