//! Opening a conversation at a message (`/c/:id?m=<message id>`, where a
//! search result leads): the history page around it rather than the
//! newest, and where newer pages start.

use crate::api::conversations::{ConversationView, open_conversation};
use crate::api::messages::load_history_window;
use crate::protocol::{ApiError, MessageId};
use serde::{Deserialize, Serialize};

/// The message the conversation was opened at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Jump {
    pub(crate) message: MessageId,
}

/// The conversation where I left off (or its newest page, when `latest`),
/// or the page around `m` when `m` names one of its messages (a message
/// that is not, or no longer, there opens the newest page).
pub(crate) async fn open(
    id: String,
    m: Option<String>,
    latest: bool,
) -> Result<(ConversationView, Option<Jump>), ApiError> {
    let mut view = open_conversation(id.clone(), latest || m.is_some()).await?;
    let Some(message) = m.as_deref().and_then(MessageId::parse) else {
        return Ok((view, None));
    };
    let Ok(window) = load_history_window(id, None, Some(message.clone()), None).await else {
        return Ok((view, None));
    };
    if !window.page.messages.iter().any(|m| m.message_id == message) {
        return Ok((view, None));
    }
    view.page = window.page;
    view.newer = window.newer_cursor;
    Ok((view, Some(Jump { message })))
}

/// The open conversation, as the address says: `/c/:id`, `?m=`, and
/// `?latest` ("Jump to latest").
pub(crate) fn resource()
-> leptos::prelude::Resource<Result<(ConversationView, Option<Jump>), ApiError>> {
    use leptos::prelude::*;
    use leptos_router::hooks::{use_params_map, use_query_map};
    let (params, query) = (use_params_map(), use_query_map());
    Resource::new(
        move || {
            let id = params.with(|p| p.get("id").unwrap_or_default());
            let (m, latest) = query.with(|q| (q.get("m"), q.get("latest").is_some()));
            (id, m, latest)
        },
        |(id, m, latest)| open(id, m, latest),
    )
}
