//! The inbox, a conversation's history, sending without JavaScript, finding
//! people and starting conversations.

use crate::protocol::{
    ApiError, Conversation, ConversationId, HistoryPage, InboxEntry, UserSummary,
};
use leptos::server;
use serde::{Deserialize, Serialize};

/// What the signed-in pages start from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Home {
    pub me: UserSummary,
    pub inbox: Vec<InboxEntry>,
    /// The server's clock when this was read: "today" for the first render,
    /// so the hydrated page matches the server's HTML.
    pub now_ms: i64,
}

/// An open conversation: who is in it and its newest page of history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub page: HistoryPage,
}

#[cfg(feature = "ssr")]
fn parse_conversation(id: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(id).ok_or_else(|| ApiError::not_found("no such conversation"))
}

/// The signed-in user and their inbox; `None` for a visitor.
#[server(endpoint = "home")]
pub async fn load_home() -> Result<Option<Home>, ApiError> {
    use crate::server::{auth, chats};
    let (state, headers) = super::context::request()?;
    let Some(me) = auth::current_user(&state, &headers)
        .await
        .map_err(|e| e.to_api())?
    else {
        return Ok(None);
    };
    let inbox = chats::inbox(&state, &me, me.id)
        .await
        .map_err(|e| e.to_api())?;
    Ok(Some(Home {
        me: UserSummary {
            user_id: me.id,
            username: me.username,
        },
        inbox,
        now_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    }))
}

/// The conversation and its newest messages; `not_found` unless the user is
/// in it.
#[server(endpoint = "conversation")]
pub async fn open_conversation(id: String) -> Result<ConversationView, ApiError> {
    use crate::server::chats;
    let (state, _, me) = super::context::signed_in().await?;
    let id = parse_conversation(&id)?;
    let conversation = chats::get(&state, &me, id).await.map_err(|e| e.to_api())?;
    let page = chats::history(&state, &me, id, None, chats::DEFAULT_PAGE * 2)
        .await
        .map_err(|e| e.to_api())?;
    Ok(ConversationView { conversation, page })
}

/// A page of history: older than `cursor`, or the newest without one.
#[server(endpoint = "history")]
pub async fn load_history(id: String, cursor: Option<String>) -> Result<HistoryPage, ApiError> {
    use crate::protocol::MessageId;
    use crate::server::chats;
    let (state, _, me) = super::context::signed_in().await?;
    let id = parse_conversation(&id)?;
    let cursor = match cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(
            MessageId::parse(text)
                .ok_or_else(|| ApiError::invalid("cursor", "not a message id"))?,
        ),
        None => None,
    };
    chats::history(&state, &me, id, cursor.as_ref(), chats::MAX_PAGE / 2)
        .await
        .map_err(|e| e.to_api())
}

/// Sends a message from a plain form post (the page without JavaScript):
/// the same checks, the same group-commit writer and the same fan-out as a
/// WebSocket `message.send`, then back to the conversation. The form carries
/// a fresh `message_id`, so posting it twice stores it once.
#[server(endpoint = "send")]
pub async fn send_message(
    conversation_id: String,
    message_id: String,
    content: String,
) -> Result<(), ApiError> {
    use crate::protocol::{ClientEvent, MessagePayload, decode_client_frame};
    use crate::server::chats;
    let (state, _, me) = super::context::signed_in().await?;
    let conversation = parse_conversation(&conversation_id)?;
    // The WebSocket's decoder holds every rule for a message (id form,
    // content length, empty content); the form goes through it too.
    let frame = serde_json::json!({"event": "message.send", "payload": {
        "conversation_id": conversation_id, "sender_id": me.id, "message_id": message_id,
        "content": content, "timestamp": 0}});
    let message: MessagePayload = match decode_client_frame(&frame.to_string()) {
        Ok(ClientEvent::Send(message)) => message,
        Ok(_) => return Err(ApiError::internal()),
        Err(e) => {
            return Err(ApiError {
                code: e.code,
                message: e.message,
                field: Some("content".into()),
            });
        }
    };
    chats::send(&state, &me, conversation, message)
        .await
        .map_err(|e| e.to_api())?;
    leptos_axum::redirect(&format!("/c/{conversation}"));
    Ok(())
}

/// People whose name starts with `q`.
#[server(endpoint = "people")]
pub async fn search_people(q: String) -> Result<Vec<UserSummary>, ApiError> {
    use crate::server::accounts;
    let (state, _, me) = super::context::signed_in().await?;
    let mut people = accounts::search(&state, &q).await.map_err(|e| e.to_api())?;
    people.retain(|p| p.user_id != me.id);
    Ok(people)
}

/// Opens the direct chat with one person (made on first use) or a new group
/// with several, then goes there.
#[server(endpoint = "start")]
pub async fn start_conversation(
    #[server(default)] participants: Vec<String>,
    #[server(default)] title: Option<String>,
) -> Result<ConversationId, ApiError> {
    use crate::protocol::UserId;
    use crate::server::chats;
    let (state, _, me) = super::context::signed_in().await?;
    let ids = participants
        .iter()
        .map(|p| UserId::parse(p).ok_or_else(|| ApiError::invalid("participants", "not a user id")))
        .collect::<Result<Vec<_>, _>>()?;
    let (conversation, _) = chats::create(&state, &me, &ids, title.as_deref())
        .await
        .map_err(|e| e.to_api())?;
    leptos_axum::redirect(&format!("/c/{}", conversation.conversation_id));
    Ok(conversation.conversation_id)
}
