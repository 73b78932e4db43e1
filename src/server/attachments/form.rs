//! `POST /c/{conversation_id}/send`: the composer's form without
//! JavaScript, a `multipart/form-data` post of the message's fields and its
//! files (docs/protocol.md 5.3). Each file is an upload of 3.14 (the same
//! checks, streamed the same way), then the message is sent as `/api/send`
//! sends it; the answer is a redirect back to the conversation, with the
//! error in Leptos's `__err` convention when something was refused.

use super::routes::{admit, keep};
use super::upload::Declared;
use crate::protocol::{ApiError, ConversationId, MessageId, MessagePayload};
use crate::server::auth::CurrentUser;
use crate::server::clock::now_ms;
use crate::server::error::AppError;
use crate::server::state::AppState;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;

/// A form's text fields are small.
const FIELD_BYTES: usize = 64 * 1024;

pub(crate) async fn send(
    State(state): State<AppState>,
    user: Result<CurrentUser, AppError>,
    Path(conversation): Path<String>,
    request: Request,
) -> Response {
    let Some(conversation) = ConversationId::parse(&conversation) else {
        return ApiError::not_found("no such conversation").into_response();
    };
    let back = format!("/c/{conversation}");
    let user = match user {
        Ok(user) => user,
        Err(_) => return Redirect::to("/login").into_response(),
    };
    match post(&state, &user, conversation, request).await {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(error) => {
            let json = serde_json::to_vec(&error.to_api()).unwrap_or_default();
            let encoded = base64::engine::general_purpose::URL_SAFE.encode(json);
            Redirect::to(&format!("{back}?__path=/api/send&__err={encoded}")).into_response()
        }
    }
}

async fn post(
    state: &AppState,
    user: &CurrentUser,
    conversation: ConversationId,
    request: Request,
) -> Result<(), AppError> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::invalid("files", e.body_text()))?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        AppError::from(ApiError::invalid("files", e.body_text()))
    };
    let mut message_id = None;
    let mut content = String::new();
    let mut reply_to = None;
    let mut attachments = Vec::new();
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "files" {
            // A file input left empty still sends a part, without a name.
            let Some(file_name) = field.file_name().filter(|n| !n.is_empty()) else {
                continue;
            };
            if attachments.len() == crate::protocol::MAX_ATTACHMENTS {
                return Err(ApiError::invalid(
                    "attachments",
                    format!(
                        "a message carries at most {} attachments",
                        crate::protocol::MAX_ATTACHMENTS
                    ),
                )
                .into());
            }
            let declared = Declared {
                name: file_name.to_owned(),
                content_type: field.content_type().map(str::to_owned),
            };
            let allowance = admit(state, user, conversation, None, 0).await?;
            attachments.push(keep(state, user, conversation, field, declared, allowance).await?);
            continue;
        }
        let text = field.text().await.map_err(unreadable)?;
        if text.len() > FIELD_BYTES {
            return Err(
                ApiError::new(crate::protocol::ErrorCode::TooLarge, "a field is too long").into(),
            );
        }
        match name.as_str() {
            "message_id" => {
                message_id = Some(
                    MessageId::parse(&text)
                        .ok_or_else(|| ApiError::invalid("message_id", "not a message id"))?,
                );
            }
            "content" => content = text,
            "reply_to" if !text.is_empty() => {
                reply_to = Some(MessageId::parse(&text).ok_or_else(|| {
                    ApiError::invalid("reply_to", "reply_to is not a message of this conversation")
                })?);
            }
            _ => {}
        }
    }
    let message_id =
        message_id.ok_or_else(|| ApiError::invalid("message_id", "message_id is missing"))?;
    let message = MessagePayload {
        conversation_id: conversation,
        sender_id: user.id,
        message_id,
        content: crate::protocol::Content::parse(&content).map_err(ApiError::from)?,
        timestamp: now_ms(),
        reply_to,
        reply: None,
        change: None,
        attachments,
        mentions: Vec::new(),
    };
    state.chat.send_and_wait(user, message).await?;
    Ok(())
}
