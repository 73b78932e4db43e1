//! What the page does to messages besides sending them: the change stream
//! it catches up from, history pages that page both ways (a search result
//! opened around its message), and the plain forms that delete a message or give
//! (or take back) a reaction without JavaScript. Each is the chat
//! service's own action, as over the WebSocket.

use super::encoding::Json;
use crate::protocol::{ApiError, ChangesPage, ConversationId, HistoryWindow, MessageId};
use leptos::server;

/// The open conversation's messages changed after change `since`
/// (`GET /api/v1/chat/:id/changes`, a page of 100).
#[server(endpoint = "changes", input = Json, output = Json)]
pub(crate) async fn load_changes(id: String, since: i64) -> Result<ChangesPage, ApiError> {
    use crate::server::conversations;
    let (state, _, me) = super::context::signed_in().await?;
    let id =
        ConversationId::parse(&id).ok_or_else(|| ApiError::not_found("no such conversation"))?;
    conversations::changes(&state, &me, id, since, conversations::MAX_PAGE)
        .await
        .map_err(|e| e.to_api())
}

/// A history page of 50 that can be paged both ways
/// (`GET /api/v1/chat/:id` with `cursor`, `around` or `after`, at most one
/// of them; none for the newest): `next_cursor` for the older page,
/// `newer_cursor` for the newer one.
#[server(endpoint = "history_window", input = Json, output = Json)]
pub(crate) async fn load_history_window(
    id: String,
    #[server(default)] cursor: Option<MessageId>,
    #[server(default)] around: Option<MessageId>,
    #[server(default)] after: Option<MessageId>,
) -> Result<HistoryWindow, ApiError> {
    use crate::server::conversations::{self, Window};
    let (state, _, me) = super::context::signed_in().await?;
    let id =
        ConversationId::parse(&id).ok_or_else(|| ApiError::not_found("no such conversation"))?;
    let limit = conversations::MAX_PAGE / 2;
    let window = match (&cursor, &around, &after) {
        (None, None, None) => Window::Newest,
        (Some(cursor), None, None) => Window::Before(cursor),
        (None, Some(around), None) => Window::Around(around, (limit - 1) / 2),
        (None, None, Some(after)) => Window::After(after),
        _ => {
            return Err(ApiError::invalid(
                "after",
                "give only one of cursor, around and after",
            ));
        }
    };
    conversations::history_window(&state, &me, id, window, limit)
        .await
        .map_err(|e| e.to_api())
}

/// Deletes one of my messages (a plain form post), then back to the
/// conversation. The form carries a fresh `action_id`, so posting it twice
/// deletes once.
#[server(endpoint = "delete", output = Json)]
pub(crate) async fn delete_message(
    conversation_id: ConversationId,
    message_id: MessageId,
    action_id: MessageId,
) -> Result<(), ApiError> {
    use crate::server::db::actions::Change;
    let (state, _, me) = super::context::signed_in().await?;
    let chat = &state.chat;
    chat.act(
        &me,
        action_id,
        conversation_id,
        message_id,
        Change::Delete,
        None,
    )
    .await?;
    leptos_axum::redirect(&format!("/c/{conversation_id}"));
    Ok(())
}

/// Gives or takes back a reaction (a plain form post), then back to the
/// conversation: `reaction` is `+` (give) or `-` (take back) and the emoji,
/// the value of the button pressed.
#[server(endpoint = "react", output = Json)]
pub(crate) async fn react_to_message(
    conversation_id: ConversationId,
    message_id: MessageId,
    action_id: MessageId,
    reaction: String,
) -> Result<(), ApiError> {
    use crate::server::db::actions::Change;
    let (state, _, me) = super::context::signed_in().await?;
    let (add, emoji) = match reaction.split_at_checked(1) {
        Some(("+", emoji)) => (true, emoji),
        Some(("-", emoji)) => (false, emoji),
        _ => {
            return Err(ApiError::invalid(
                "reaction",
                "reaction must be + or - and an emoji",
            ));
        }
    };
    let emoji = crate::protocol::Emoji::parse(emoji).map_err(ApiError::from)?;
    let change = if add {
        Change::React(emoji)
    } else {
        Change::Unreact(emoji)
    };
    let back = format!("/c/{conversation_id}#{message_id}");
    state
        .chat
        .act(&me, action_id, conversation_id, message_id, change, None)
        .await?;
    leptos_axum::redirect(&back);
    Ok(())
}
