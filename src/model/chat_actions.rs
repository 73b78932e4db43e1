//! What a person does to messages besides writing them: answering one
//! (the composer quotes it), editing or deleting their own, and giving or
//! taking back a reaction. Edits, deletions and reactions are shown when
//! the server tells every member of them (this page included), so what is
//! on screen is always what was stored; until answered, each is kept and
//! sent again, with the same `action_id`, after a reconnect.

use super::{Chat, Effect};
use crate::protocol::{
    ActionAck, Content, DeletePayload, EditPayload, Emoji, ErrorCode, MessageId, QUOTE_CHARS,
    Quote, ReactionPayload, ServerEvent,
};
use serde::Serialize;

/// What the composer does besides writing a new message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Draft {
    /// The next message answers this one.
    Reply(Quote),
    /// The box holds this message of mine, to be changed.
    Edit(MessageId),
}

impl Chat {
    /// The next message I write answers `id` (a message shown).
    pub(crate) fn start_reply(&mut self, id: &MessageId) {
        let Some(m) = self.timeline.as_ref().and_then(|t| t.get(id)) else {
            return;
        };
        let Some(text) = &m.content else {
            return;
        };
        self.draft = Some(Draft::Reply(Quote {
            message_id: id.clone(),
            sender_id: m.sender_id,
            text: Some(text.chars().take(QUOTE_CHARS).collect()),
        }));
    }

    /// The box takes `id`, a message of mine, to be changed; its text.
    pub(crate) fn start_edit(&mut self, id: &MessageId) -> Option<String> {
        let me = self.my_id();
        let m = self.timeline.as_ref().and_then(|t| t.get(id))?;
        let text = m
            .content
            .as_ref()
            .filter(|c| m.sender_id == me && m.is_stored() && !c.is_empty())?
            .to_string();
        self.draft = Some(Draft::Edit(id.clone()));
        Some(text)
    }

    pub(crate) fn cancel_draft(&mut self) {
        self.draft = None;
    }

    /// The quote the next message carries (and forgets it).
    pub(super) fn take_reply(&mut self) -> Option<Quote> {
        match self.draft.take() {
            Some(Draft::Reply(quote)) => Some(quote),
            other => {
                self.draft = other;
                None
            }
        }
    }

    /// My message `id` now reads `content`.
    pub(crate) fn edit(
        &mut self,
        id: MessageId,
        content: Content,
        action: MessageId,
    ) -> Vec<Effect> {
        self.draft = None;
        let Some(conversation) = self.open_id() else {
            return Vec::new();
        };
        let edit = EditPayload {
            action_id: action.clone(),
            conversation_id: conversation,
            message_id: id,
            content,
        };
        self.act(action, frame("message.edit", &edit))
    }

    /// I take my message `id` back.
    pub(crate) fn delete(&mut self, id: MessageId, action: MessageId) -> Vec<Effect> {
        let Some(conversation) = self.open_id() else {
            return Vec::new();
        };
        if matches!(&self.draft, Some(Draft::Edit(editing)) if *editing == id) {
            self.draft = None;
        }
        let delete = DeletePayload {
            action_id: action.clone(),
            conversation_id: conversation,
            message_id: id,
        };
        self.act(action, frame("message.delete", &delete))
    }

    /// I give `emoji` to message `id`, or take it back if I had given it.
    pub(crate) fn toggle_reaction(
        &mut self,
        id: MessageId,
        emoji: Emoji,
        action: MessageId,
    ) -> Vec<Effect> {
        let Some(conversation) = self.open_id() else {
            return Vec::new();
        };
        let given = self
            .timeline
            .as_ref()
            .and_then(|t| t.get(&id))
            .is_some_and(|m| m.reactions.iter().any(|r| r.emoji == emoji && r.mine));
        let reaction = ReactionPayload {
            action_id: action.clone(),
            conversation_id: conversation,
            message_id: id,
            emoji,
        };
        let event = if given {
            "reaction.remove"
        } else {
            "reaction.add"
        };
        self.act(action, frame(event, &reaction))
    }

    /// Kept (as its frame) until answered; sent now if connected.
    fn act(&mut self, id: MessageId, frame: Option<String>) -> Vec<Effect> {
        self.action_error = None;
        let Some(frame) = frame else {
            return Vec::new();
        };
        self.actions.push((id, frame.clone()));
        if self.connected() {
            vec![Effect::SendText(frame)]
        } else {
            Vec::new()
        }
    }

    /// Every action not answered yet, again (on a new connection).
    pub(super) fn resend_actions(&self, effects: &mut Vec<Effect>) {
        let frames = self.actions.iter().map(|(_, frame)| frame.clone());
        effects.extend(frames.map(Effect::SendText));
    }

    /// `action.ack`: done (what it did is told to every member).
    pub(super) fn action_done(&mut self, ack: &ActionAck) {
        self.actions.retain(|(id, _)| *id != ack.action_id);
    }

    /// An `error` about one of my actions: refused for good (said on the
    /// page), or for now (sent again on the next connection).
    pub(super) fn action_refused(&mut self, id: &MessageId, code: ErrorCode, message: String) {
        if matches!(code, ErrorCode::Unavailable) {
            return;
        }
        self.actions.retain(|(action, _)| action != id);
        self.action_error = Some(message);
    }
}

/// Reads the news of an action (`ServerEvent::read_action`) and applies it
/// (the open conversation's part, `OpenPage`).
pub(super) fn read_action(chat: &mut Chat, text: &str) -> Vec<Effect> {
    if let Ok(event) = ServerEvent::read_action(text) {
        chat.apply_action(event);
    }
    Vec::new()
}

impl Chat {
    /// The news of an action: shown in the open conversation, and in the
    /// inbox's preview when it is about a conversation's newest message.
    pub(crate) fn apply_action(&mut self, event: ServerEvent) {
        let me = self.my_id();
        match event {
            ServerEvent::ActionAck(ack) => self.action_done(&ack),
            ServerEvent::Edited(edit) => {
                let (conversation, id) = (edit.conversation_id, edit.message_id.clone());
                self.inbox
                    .changed(conversation, &id, Some(edit.content.clone()));
                if let Some(t) = &mut self.timeline {
                    t.edited(edit);
                }
            }
            ServerEvent::Deleted(gone) => {
                self.inbox
                    .changed(gone.conversation_id, &gone.message_id, None);
                if let Some(t) = &mut self.timeline {
                    t.deleted(gone);
                }
            }
            ServerEvent::Reacted(r) => {
                if let Some(t) = &mut self.timeline {
                    t.reacted(r, true, me);
                }
            }
            ServerEvent::Unreacted(r) => {
                if let Some(t) = &mut self.timeline {
                    t.reacted(r, false, me);
                }
            }
            _ => {}
        }
    }
}

/// A client frame, `{"event": …, "payload": …}` (as `ClientEvent` would
/// write it).
fn frame(event: &str, payload: &impl Serialize) -> Option<String> {
    #[derive(Serialize)]
    struct Frame<'a, P> {
        event: &'a str,
        payload: P,
    }
    serde_json::to_string(&Frame { event, payload }).ok()
}
