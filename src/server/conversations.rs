//! Conversation actions, each written once and shared by the REST API and
//! the pages' server functions: starting one, leaving a group, blocking a
//! person, history pages, the inbox.

use super::auth::CurrentUser;
use super::chat::fanout::NodeEvent;
use super::chat::refusal;
use super::db;
use super::db::conversations::{Leaving, Muting};
use super::db::inbox::InboxCursor;
use super::error::AppResult;
use super::limits::Action;
use super::state::AppState;
use crate::protocol::{
    ApiError, ChangesPage, Conversation, ConversationId, ConversationKind, ErrorCode, HistoryPage,
    HistoryWindow, Inbox, MemberPayload, MutePayload, ServerEvent, Title, UserId,
};
pub(crate) use db::messages::Window;

pub(crate) const DEFAULT_PAGE: i64 = 20;
pub(crate) const MAX_PAGE: i64 = 100;
/// Inbox rows per page unless asked otherwise.
pub(crate) const INBOX_PAGE: i64 = 50;

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
    let max = state.settings.max_group_size;
    if others.len() + 1 > max {
        return Err(ApiError::invalid(
            "participants",
            format!("A group has at most {max} members"),
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
    let mut everyone = others.clone();
    everyone.push(me.id);
    if db::conversations::any_blocked(&state.db, &everyone).await? {
        return Err(ApiError::forbidden(
            "this conversation cannot be started: someone in it has blocked someone else in it",
        )
        .into());
    }
    let (id, created) = if let [other] = others[..] {
        db::conversations::get_or_create_direct(&state.db, me.id, other).await?
    } else {
        let mut members = others.clone();
        members.push(me.id);
        let id = db::conversations::create_group(&state.db, &members, title.as_deref()).await?;
        (id, true)
    };
    let mut conversation = db::conversations::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such conversation"))?;
    if !created {
        // An existing direct chat: as the caller left it.
        conversation.muted = db::conversations::is_muted(&state.db, id, me.id).await?;
    }
    // The member cache learns of it from the database on first use: filled
    // from here, it could hold "not blocked" after a block committed in
    // between.
    Ok((conversation, created))
}

/// The conversation with every member's markers, if `me` is in it; 404
/// otherwise, exactly as for one that does not exist. A read like a
/// history page, from the same budget.
pub(crate) async fn get(
    state: &AppState,
    me: &CurrentUser,
    id: ConversationId,
) -> AppResult<Conversation> {
    state.limits.check(me.id, Action::HistoryPage)?;
    require_member(state, me, id).await?;
    let mut conversation = db::conversations::get(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    conversation.markers = db::markers::of_members(&state.db, id).await?;
    conversation.muted = db::conversations::is_muted(&state.db, id, me.id).await?;
    Ok(conversation)
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

/// A page of history, newest first: `limit` messages of `window` (the
/// newest, those older than a cursor, those around a message, or those
/// newer than one), each as `me` sees it now.
pub(crate) async fn history(
    state: &AppState,
    me: &CurrentUser,
    id: ConversationId,
    window: Window<'_>,
    limit: i64,
) -> AppResult<HistoryPage> {
    Ok(history_window(state, me, id, window, limit).await?.page)
}

/// [`history`], with the cursor for the next newer page. One query
/// (membership comes from the cache).
pub(crate) async fn history_window(
    state: &AppState,
    me: &CurrentUser,
    id: ConversationId,
    window: Window<'_>,
    limit: i64,
) -> AppResult<HistoryWindow> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be 1 to {MAX_PAGE}")).into());
    }
    state.limits.check(me.id, Action::HistoryPage)?;
    require_member(state, me, id).await?;
    let (field, after) = match window {
        Window::Around(..) => ("around", false),
        Window::After(..) => ("after", true),
        _ => ("cursor", false),
    };
    // One more than asked tells whether anything older is left; a page
    // after a message always has that message older than it.
    let asked = if after { limit } else { limit + 1 };
    let Some(mut page) = db::messages::page(&state.db, id, window, asked, me.id).await? else {
        return Err(ApiError::invalid(
            field,
            format!("{field} is not a message of this conversation"),
        )
        .into());
    };
    let more = after || page.messages.len() as i64 > limit;
    page.messages.truncate(limit as usize);
    let next_cursor = if more {
        page.messages.last().map(|m| m.message_id.clone())
    } else {
        None
    };
    let newer_cursor = if page.newer {
        page.messages.first().map(|m| m.message_id.clone())
    } else {
        None
    };
    Ok(HistoryWindow {
        page: HistoryPage {
            conversation_id: id,
            messages: page.messages,
            next_cursor,
            last_change: page.last_change,
        },
        newer_cursor,
    })
}

/// The messages of conversation `id` changed after change `since`, at most
/// `limit` of them, in the order of their latest change. A history read:
/// the same budget, the same privacy.
pub(crate) async fn changes(
    state: &AppState,
    me: &CurrentUser,
    id: ConversationId,
    since: i64,
    limit: i64,
) -> AppResult<ChangesPage> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be 1 to {MAX_PAGE}")).into());
    }
    if since < 0 {
        return Err(ApiError::invalid("since", "since must be a change number (0 or more)").into());
    }
    state.limits.check(me.id, Action::HistoryPage)?;
    require_member(state, me, id).await?;
    let (mut messages, newest) =
        db::messages::changes(&state.db, id, since, limit + 1, me.id).await?;
    let more = messages.len() as i64 > limit;
    messages.truncate(limit as usize);
    let last_change = match messages.last() {
        Some(last) if more => last.change,
        _ => newest.max(since),
    };
    Ok(ChangesPage {
        conversation_id: id,
        messages,
        last_change,
        more,
    })
}

/// A page of `user`'s inbox (only they may read it): `limit` rows after
/// `cursor`, most recent activity first.
pub(crate) async fn inbox(
    state: &AppState,
    me: &CurrentUser,
    user: UserId,
    cursor: Option<&str>,
    limit: i64,
) -> AppResult<Inbox> {
    if user != me.id {
        return Err(ApiError::forbidden("you can only read your own inbox").into());
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be 1 to {MAX_PAGE}")).into());
    }
    let after = match cursor.filter(|c| !c.is_empty()) {
        Some(text) => Some(
            InboxCursor::parse(text)
                .ok_or_else(|| ApiError::invalid("cursor", "cursor is not one this inbox gave"))?,
        ),
        None => None,
    };
    state.limits.check(me.id, Action::InboxPage)?;
    let (chats, next) = db::inbox::page(&state.db, me.id, after, limit).await?;
    Ok(Inbox {
        chats,
        next_cursor: next.map(|c| c.to_string()),
    })
}

/// `me` leaves the group `id`: gone from their inbox, the history stays for
/// the others, and every connection of the members and of `me` hears of it
/// (`conversation.left`), on every node.
pub(crate) async fn leave(state: &AppState, me: &CurrentUser, id: ConversationId) -> AppResult<()> {
    match db::conversations::leave(&state.db, id, me.id).await? {
        Leaving::Left => {}
        Leaving::NotAMember => return Err(not_found().into()),
        Leaving::Direct => {
            return Err(ApiError::new(
                ErrorCode::InvalidPayload,
                "a direct chat cannot be left; block the person instead",
            )
            .into());
        }
    }
    let chat = &state.chat;
    chat.members.invalidate(id);
    chat.fanout
        .tell_others(NodeEvent::MembersChanged { conversation: id });
    let frame = ServerEvent::Left(MemberPayload {
        conversation_id: id,
        user_id: me.id,
    })
    .to_json();
    let mut told = vec![me.id];
    if let Some(members) = chat.members.get(&state.db, id).await? {
        told.extend_from_slice(members.ids());
    }
    chat.hub.deliver(&told, None, &frame.as_str().into());
    chat.fanout.tell_others(NodeEvent::ToMembers {
        conversation: id,
        also: vec![me.id],
        frame,
    });
    Ok(())
}

/// Whether `conversation` is a direct chat whose other person `me` blocked.
pub(crate) async fn blocked_by_me(
    state: &AppState,
    me: &CurrentUser,
    conversation: &Conversation,
) -> AppResult<bool> {
    if conversation.kind != ConversationKind::Direct {
        return Ok(false);
    }
    let Some(other) = conversation
        .participants
        .iter()
        .find(|p| p.user_id != me.id)
    else {
        return Ok(false);
    };
    Ok(db::conversations::has_blocked(&state.db, me.id, other.user_id).await?)
}

/// `me` blocks `user` (`blocked`) or no longer does: no new conversation
/// may hold both, and neither may send in a direct chat between them.
pub(crate) async fn block(
    state: &AppState,
    me: &CurrentUser,
    user: UserId,
    blocked: bool,
) -> AppResult<()> {
    if user == me.id {
        return Err(ApiError::invalid("user_id", "you cannot block yourself").into());
    }
    if blocked {
        if !db::conversations::block(&state.db, me.id, user).await? {
            return Err(ApiError::not_found(format!("no such user: {user}")).into());
        }
    } else {
        db::conversations::unblock(&state.db, me.id, user).await?;
    }
    if let Some(direct) = db::conversations::direct_between(&state.db, me.id, user).await? {
        state.chat.members.invalidate(direct);
        state.chat.fanout.tell_others(NodeEvent::MembersChanged {
            conversation: direct,
        });
    }
    Ok(())
}

/// `me` mutes conversation `id` (`muted`) or no longer does. Idempotent;
/// when the flag changed, every connection of `me`, on every node, hears
/// it (`conversation.muted`), so their other tabs follow.
pub(crate) async fn mute(
    state: &AppState,
    me: &CurrentUser,
    id: ConversationId,
    muted: bool,
) -> AppResult<()> {
    match db::conversations::set_muted(&state.db, id, me.id, muted).await? {
        Muting::Changed => {}
        Muting::Unchanged => return Ok(()),
        Muting::NotAMember => return Err(refusal::no_conversation().into()),
    }
    let frame = ServerEvent::Muted(MutePayload {
        conversation_id: id,
        muted,
    })
    .to_json();
    let chat = &state.chat;
    chat.hub.deliver(&[me.id], None, &frame.as_str().into());
    chat.fanout
        .tell_others(NodeEvent::ToUser { user: me.id, frame });
    Ok(())
}
