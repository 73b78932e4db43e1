//! Conversation operations shared by the REST API and the pages' server
//! functions: creation, history pages, the inbox.

use super::auth::CurrentUser;
use super::chat::members::Members;
use super::db;
use super::error::AppResult;
use super::limits::Action;
use super::state::AppState;
use crate::protocol::{
    ApiError, Conversation, ConversationId, GROUP_MAX, HistoryMessage, HistoryPage, InboxEntry,
    MessageId, Title, UserId,
};

pub(crate) const DEFAULT_PAGE: i64 = 20;
pub(crate) const MAX_PAGE: i64 = 100;

/// The conversation and whether this call created it.
pub(crate) async fn create(
    state: &AppState,
    me: &CurrentUser,
    participants: &[UserId],
    title: &Title,
) -> AppResult<(Conversation, bool)> {
    state.limits.check(me.id, Action::NewConversation)?;
    let mut others: Vec<UserId> = participants
        .iter()
        .copied()
        .filter(|p| *p != me.id)
        .collect();
    others.sort_unstable();
    others.dedup();
    if others.is_empty() {
        return Err(
            ApiError::invalid("participants", "Name at least one other person to talk to").into(),
        );
    }
    if others.len() + 1 > GROUP_MAX {
        return Err(ApiError::invalid(
            "participants",
            format!("A group has at most {GROUP_MAX} members"),
        )
        .into());
    }
    let found = db::users::summaries(&state.db, &others).await?;
    if found.len() != others.len() {
        let missing = others
            .iter()
            .find(|id| !found.iter().any(|u| u.user_id == **id))
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(ApiError::not_found(format!("no such user: {missing}")).into());
    }
    let (id, created) = if let [other] = others[..] {
        db::conversations::get_or_create_direct(&state.db, me.id, other).await?
    } else {
        let mut members = others.clone();
        members.push(me.id);
        let id = db::conversations::create_group(&state.db, &members, title.as_deref()).await?;
        (id, true)
    };
    let conversation = db::conversations::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such conversation"))?;
    state.chat.members.insert(
        id,
        Members::new(
            conversation
                .participants
                .iter()
                .map(|p| p.user_id)
                .collect(),
        ),
    );
    Ok((conversation, created))
}

/// The conversation, if `me` is in it; 404 otherwise, exactly as for one
/// that does not exist.
pub(crate) async fn get(
    state: &AppState,
    me: &CurrentUser,
    id: ConversationId,
) -> AppResult<Conversation> {
    require_member(state, me, id).await?;
    db::conversations::get(&state.db, id)
        .await?
        .ok_or_else(|| not_found().into())
}

fn not_found() -> ApiError {
    ApiError::not_found("no such conversation")
}

async fn require_member(state: &AppState, me: &CurrentUser, id: ConversationId) -> AppResult<()> {
    match state.chat.members.get(&state.db, id).await? {
        Some(members) if members.contains(me.id) => Ok(()),
        _ => Err(not_found().into()),
    }
}

/// A page of history, newest first: `limit` messages strictly older than
/// `cursor`. One query (membership comes from the cache).
pub(crate) async fn history(
    state: &AppState,
    me: &CurrentUser,
    id: ConversationId,
    cursor: Option<&MessageId>,
    limit: i64,
) -> AppResult<HistoryPage> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be 1 to {MAX_PAGE}")).into());
    }
    state.limits.check(me.id, Action::HistoryPage)?;
    require_member(state, me, id).await?;
    // One more than asked tells whether anything older is left.
    let Some(mut rows) = db::messages::page(&state.db, id, cursor, limit + 1).await? else {
        return Err(
            ApiError::invalid("cursor", "cursor is not a message of this conversation").into(),
        );
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| r.message_id.clone())
    } else {
        None
    };
    Ok(HistoryPage {
        conversation_id: id,
        messages: rows
            .into_iter()
            .map(|r| HistoryMessage {
                message_id: r.message_id,
                sender_id: r.sender_id,
                content: r.content,
                timestamp: r.client_ts,
            })
            .collect(),
        next_cursor,
    })
}

/// `user`'s inbox; only they may read it.
pub(crate) async fn inbox(
    state: &AppState,
    me: &CurrentUser,
    user: UserId,
) -> AppResult<Vec<InboxEntry>> {
    if user != me.id {
        return Err(ApiError::forbidden("you can only read your own inbox").into());
    }
    state.limits.check(me.id, Action::InboxPage)?;
    Ok(db::inbox::for_user(&state.db, me.id).await?)
}
