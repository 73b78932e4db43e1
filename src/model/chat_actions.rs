//! What a person does to messages besides writing them: answering one
//! (the composer quotes it), editing or deleting their own, and giving or
//! taking back a reaction. Edits, deletions and reactions are shown when
//! the server tells every member of them (this page included), so what is
//! on screen is always what was stored; until answered, each is kept and
//! sent again, with the same `action_id`, after a reconnect.

use super::{Chat, Effect};
use crate::protocol::{
    ActionAck, ClientEvent, Content, DeletePayload, EditPayload, Emoji, ErrorCode, MessageId,
    QUOTE_CHARS, Quote, ReactionPayload,
};

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
            .filter(|_| m.sender_id == me && m.is_stored())?
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
        self.act(ClientEvent::Edit(EditPayload {
            action_id: action,
            conversation_id: conversation,
            message_id: id,
            content,
        }))
    }

    /// I take my message `id` back.
    pub(crate) fn delete(&mut self, id: MessageId, action: MessageId) -> Vec<Effect> {
        let Some(conversation) = self.open_id() else {
            return Vec::new();
        };
        if matches!(&self.draft, Some(Draft::Edit(editing)) if *editing == id) {
            self.draft = None;
        }
        self.act(ClientEvent::Delete(DeletePayload {
            action_id: action,
            conversation_id: conversation,
            message_id: id,
        }))
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
            action_id: action,
            conversation_id: conversation,
            message_id: id,
            emoji,
        };
        self.act(if given {
            ClientEvent::Unreact(reaction)
        } else {
            ClientEvent::React(reaction)
        })
    }

    /// Kept until answered; sent now if connected.
    fn act(&mut self, event: ClientEvent) -> Vec<Effect> {
        self.action_error = None;
        self.actions.push(event.clone());
        if self.connected() {
            vec![Effect::Send(event)]
        } else {
            Vec::new()
        }
    }

    /// Every action not answered yet, again (on a new connection).
    pub(super) fn resend_actions(&self, effects: &mut Vec<Effect>) {
        effects.extend(self.actions.iter().cloned().map(Effect::Send));
    }

    /// `action.ack`: done (what it did is told to every member).
    pub(super) fn action_done(&mut self, ack: &ActionAck) {
        self.actions
            .retain(|a| action_id(a) != Some(&ack.action_id));
    }

    /// An `error` about one of my actions: refused for good (said on the
    /// page), or for now (sent again on the next connection).
    pub(super) fn action_refused(&mut self, id: &MessageId, code: ErrorCode, message: String) {
        if matches!(code, ErrorCode::Unavailable) {
            return;
        }
        self.actions.retain(|a| action_id(a) != Some(id));
        self.action_error = Some(message);
    }
}

fn action_id(event: &ClientEvent) -> Option<&MessageId> {
    match event {
        ClientEvent::Edit(e) => Some(&e.action_id),
        ClientEvent::Delete(d) => Some(&d.action_id),
        ClientEvent::React(r) | ClientEvent::Unreact(r) => Some(&r.action_id),
        _ => None,
    }
}
