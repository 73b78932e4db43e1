//! The inbox, a conversation's history, sending without JavaScript,
//! starting, leaving, blocking and muting.

use super::encoding::Json;
use crate::protocol::{
    ApiError, Content, Conversation, ConversationId, HistoryPage, Inbox, MessageId, Title, UserId,
    UserSummary,
};
use leptos::server;
use serde::{Deserialize, Serialize};

/// What the signed-in pages start from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Home {
    pub(crate) me: UserSummary,
    /// A page of the inbox: the first, or the one after the cursor asked
    /// for.
    pub(crate) inbox: Inbox,
    /// The server's clock when this was read: "today" for the first render,
    /// so the hydrated page matches the server's HTML.
    pub(crate) now_ms: i64,
}

/// An open conversation: who is in it and its newest page of history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConversationView {
    pub(crate) conversation: Conversation,
    pub(crate) page: HistoryPage,
    /// A direct chat whose other person I blocked.
    pub(crate) blocked_by_me: bool,
    /// Opened where I left off, more than a page back: the cursor for the
    /// next newer page (`None`: the page is the newest).
    #[serde(default)]
    pub(crate) newer: Option<MessageId>,
}

#[cfg(feature = "ssr")]
fn parse_conversation(id: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(id).ok_or_else(|| ApiError::not_found("no such conversation"))
}

/// The signed-in user and a page of their inbox (the first, or the one
/// after `after`, a cursor an earlier page gave); `None` for a visitor.
#[server(endpoint = "home", input = Json, output = Json)]
pub(crate) async fn load_home(after: Option<String>) -> Result<Option<Home>, ApiError> {
    use crate::server::{auth, conversations};
    let (state, headers) = super::context::request()?;
    let Some(me) = auth::current_user(&state, &headers)
        .await
        .map_err(|e| e.to_api())?
    else {
        return Ok(None);
    };
    // Every signed-in page loads this: the cookie's lifetime follows the
    // session's, which this use may just have extended.
    if let Some(token) = auth::cookie_token(&headers) {
        let left = me.expires_at - crate::server::clock::now_ms() / 1000;
        let cookie = auth::session_cookie(token, left, &headers);
        super::context::set_header(axum::http::header::SET_COOKIE, cookie);
    }
    let inbox = conversations::inbox(
        &state,
        &me,
        me.id,
        after.as_deref(),
        conversations::INBOX_PAGE,
    )
    .await
    .map_err(|e| e.to_api())?;
    Ok(Some(Home {
        me: UserSummary {
            user_id: me.id,
            username: me.username,
        },
        inbox,
        now_ms: crate::server::clock::now_ms(),
    }))
}

/// The conversation and its newest messages; `not_found` unless the user is
/// in it. When more than that page is unread (and not `newest`), the page
/// that starts where I left off instead (my read marker and a few before
/// it), with the cursor for the newer ones: the "New messages" line goes
/// above the first unread message, not above a page in the middle of them.
#[server(endpoint = "conversation", input = Json, output = Json)]
pub(crate) async fn open_conversation(
    id: String,
    #[server(default)] newest: bool,
) -> Result<ConversationView, ApiError> {
    use crate::server::conversations;
    let (state, _, me) = super::context::signed_in().await?;
    let id = parse_conversation(&id)?;
    let conversation = conversations::get(&state, &me, id)
        .await
        .map_err(|e| e.to_api())?;
    let window = conversations::Window::Newest;
    let mut page = conversations::history(&state, &me, id, window, conversations::DEFAULT_PAGE * 2)
        .await
        .map_err(|e| e.to_api())?;
    let mut newer = None;
    if let Some(read) = left_off(&conversation, me.id, &page).filter(|_| !newest) {
        let limit = conversations::MAX_PAGE / 2;
        let window = conversations::Window::Around(read, limit - READ_ABOVE_LINE - 1);
        // Should that page fail (a marker gone with its message), the
        // newest page still opens the conversation.
        if let Ok(window) = conversations::history_window(&state, &me, id, window, limit).await {
            page = window.page;
            newer = window.newer_cursor;
        }
    }
    let blocked_by_me = conversations::blocked_by_me(&state, &me, &conversation)
        .await
        .map_err(|e| e.to_api())?;
    Ok(ConversationView {
        conversation,
        page,
        blocked_by_me,
        newer,
    })
}

/// How many messages I had read show above the "New messages" line when a
/// conversation opens where I left off.
#[cfg(feature = "ssr")]
const READ_ABOVE_LINE: i64 = 5;

/// My read marker, when it is older than the whole newest `page` (so more
/// than a page is unread). Never read at all opens the newest page.
#[cfg(feature = "ssr")]
fn left_off<'a>(
    conversation: &'a Conversation,
    me: UserId,
    page: &HistoryPage,
) -> Option<&'a MessageId> {
    let read = conversation
        .markers
        .iter()
        .find(|m| m.user_id == me)?
        .read
        .as_ref()?;
    let older = page.next_cursor.is_some();
    (older && !page.messages.iter().any(|m| &m.message_id == read)).then_some(read)
}

/// A page of history: older than `cursor`, or the newest without one.
#[server(endpoint = "history", input = Json, output = Json)]
pub(crate) async fn load_history(
    id: String,
    cursor: Option<String>,
) -> Result<HistoryPage, ApiError> {
    use crate::server::conversations;
    let (state, _, me) = super::context::signed_in().await?;
    let id = parse_conversation(&id)?;
    let cursor = match cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(
            MessageId::parse(text)
                .ok_or_else(|| ApiError::invalid("cursor", "not a message id"))?,
        ),
        None => None,
    };
    let window = match &cursor {
        Some(cursor) => conversations::Window::Before(cursor),
        None => conversations::Window::Newest,
    };
    conversations::history(&state, &me, id, window, conversations::MAX_PAGE / 2)
        .await
        .map_err(|e| e.to_api())
}

/// Sends a message from a plain form post (the page without JavaScript):
/// the chat service's send, as for a WebSocket `message.send`, waiting for
/// the commit, then back to the conversation. The form carries a fresh
/// `message_id`, so posting it twice stores it once; a form has no clock
/// worth keeping, so the message gets the server's time.
#[server(endpoint = "send", output = Json)]
pub(crate) async fn send_message(
    conversation_id: ConversationId,
    message_id: MessageId,
    content: Content,
    #[server(default)] reply_to: Option<MessageId>,
) -> Result<(), ApiError> {
    use crate::protocol::MessagePayload;
    use crate::server::clock::now_ms;
    let (state, _, me) = super::context::signed_in().await?;
    let message = MessagePayload {
        conversation_id,
        sender_id: me.id,
        message_id,
        content,
        timestamp: now_ms(),
        reply_to,
        reply: None,
        change: None,
        attachments: Vec::new(),
        mentions: Vec::new(),
    };
    state.chat.send_and_wait(&me, message).await?;
    leptos_axum::redirect(&format!("/c/{conversation_id}"));
    Ok(())
}

/// Opens the direct chat with one person (made on first use) or a new group
/// with several, then goes there.
#[server(endpoint = "start", output = Json)]
pub(crate) async fn start_conversation(
    #[server(default)] participants: Vec<String>,
    #[server(default)] title: Title,
) -> Result<ConversationId, ApiError> {
    use crate::protocol::UserId;
    use crate::server::conversations;
    let (state, _, me) = super::context::signed_in().await?;
    let ids = participants
        .iter()
        .map(|p| UserId::parse(p).ok_or_else(|| ApiError::invalid("participants", "not a user id")))
        .collect::<Result<Vec<_>, _>>()?;
    let (conversation, _) = conversations::create(&state, &me, &ids, &title)
        .await
        .map_err(|e| e.to_api())?;
    leptos_axum::redirect(&format!("/c/{}", conversation.conversation_id));
    Ok(conversation.conversation_id)
}

/// Leaves a group (a plain form post), then back to the inbox.
#[server(endpoint = "leave", output = Json)]
pub(crate) async fn leave_conversation(conversation_id: ConversationId) -> Result<(), ApiError> {
    use crate::server::conversations;
    let (state, _, me) = super::context::signed_in().await?;
    conversations::leave(&state, &me, conversation_id)
        .await
        .map_err(|e| e.to_api())?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Blocks (`block`) or unblocks a person (a plain form post), then back to
/// the conversation the button was in.
#[server(endpoint = "block", output = Json)]
pub(crate) async fn block_user(
    user_id: UserId,
    block: bool,
    conversation_id: ConversationId,
) -> Result<(), ApiError> {
    use crate::server::conversations;
    let (state, _, me) = super::context::signed_in().await?;
    conversations::block(&state, &me, user_id, block)
        .await
        .map_err(|e| e.to_api())?;
    leptos_axum::redirect(&format!("/c/{conversation_id}"));
    Ok(())
}

/// Mutes (`muted`) or unmutes a conversation: a plain form post that comes
/// back to it; hydrated, the page calls it and follows the
/// `conversation.muted` event it causes.
#[server(endpoint = "mute", output = Json)]
pub(crate) async fn mute_conversation(
    conversation_id: ConversationId,
    muted: bool,
) -> Result<(), ApiError> {
    use crate::server::conversations;
    let (state, headers, me) = super::context::signed_in().await?;
    conversations::mute(&state, &me, conversation_id, muted)
        .await
        .map_err(|e| e.to_api())?;
    // Back to the conversation for a plain form post; the hydrated page
    // asks for JSON and stays where it is.
    let html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if html {
        leptos_axum::redirect(&format!("/c/{conversation_id}"));
    }
    Ok(())
}

/// "Mark all as read" without JavaScript (a plain form post): my read
/// marker moves to the newest message of every conversation on the first
/// page of my inbox that has unread messages, as the hydrated page does
/// with one marker per row, then back to the inbox. Each marker is heard
/// by the other members and my other tabs, and counts against
/// `read-marker-budget` like any other.
#[server(endpoint = "read_all", output = Json)]
pub(crate) async fn read_all() -> Result<(), ApiError> {
    use crate::protocol::ReadPayload;
    use crate::server::conversations;
    use crate::server::db::markers::Marker;
    let (state, _, me) = super::context::signed_in().await?;
    let inbox = conversations::inbox(&state, &me, me.id, None, conversations::INBOX_PAGE)
        .await
        .map_err(|e| e.to_api())?;
    for entry in inbox.chats.into_iter().filter(|e| e.unread_count > 0) {
        let Some(message_id) = entry.last_message_id else {
            continue;
        };
        let marked = ReadPayload {
            conversation_id: entry.conversation_id,
            message_id,
        };
        state.chat.mark(&me, Marker::Read, marked, None).await?;
    }
    leptos_axum::redirect("/");
    Ok(())
}
