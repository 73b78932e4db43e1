//! What the open conversation's page does with the chat's news: the
//! message in the timeline, my message stored, refused or waiting, the
//! others' ticks, and the news of actions (edits, deletions, reactions).
//! `Chat::open_conversation` installs it, so that this code is loaded with
//! the conversation's page, not with every page (the inbox shows none of
//! it).

use super::incoming::is_transient;
use super::{Chat, Effect};
use crate::protocol::ServerEvent;
use std::fmt;

/// The open conversation's part of each change.
#[derive(Clone, Copy)]
pub(crate) struct OpenPage {
    /// Shows a frame's part in the open conversation (before the rest of
    /// the chat takes it).
    pub(crate) shown: fn(&mut Chat, &ServerEvent),
    /// Reads and applies the news of an action (`ServerEvent::read_action`).
    pub(crate) action: fn(&mut Chat, &str) -> Vec<Effect>,
}

impl OpenPage {
    pub(super) fn new() -> Self {
        Self {
            shown,
            action: super::actions::read_action,
        }
    }
}

// One page is as good as another: what matters is whether one is open.
impl PartialEq for OpenPage {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for OpenPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenPage")
    }
}

fn shown(chat: &mut Chat, event: &ServerEvent) {
    let (me, open) = (chat.my_id(), chat.open_id());
    let Chat {
        timeline, receipts, ..
    } = chat;
    let Some(t) = timeline else {
        return;
    };
    match event {
        ServerEvent::Receive(message) if open == Some(message.conversation_id) => {
            t.receive(message.clone());
        }
        ServerEvent::Ack(ack) => {
            t.ack(&ack.message_id, ack.timestamp, ack.change);
        }
        ServerEvent::Read(marker) | ServerEvent::Delivered(marker)
            if marker.user_id != me && open == Some(marker.conversation_id) =>
        {
            let read = matches!(event, ServerEvent::Read(_));
            receipts.moved(marker.user_id, read, marker.message_id.clone(), t);
        }
        ServerEvent::Error(error) if error.action_id.is_none() => {
            if let Some(id) = &error.message_id {
                if is_transient(error) {
                    t.retrying(id, error.message.clone());
                } else {
                    t.fail(id, error.message.clone());
                }
            }
        }
        _ => {}
    }
}
