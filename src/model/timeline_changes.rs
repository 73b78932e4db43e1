//! What changes a message already shown: an edit, a deletion, a reaction
//! given or taken back (each told live, with its change number), and the
//! changes missed while the page was not listening. Each is applied once:
//! only a change newer than the one a message shows takes effect.

use super::{ChatMessage, Timeline};
use crate::protocol::{
    DeletedPayload, EditedPayload, HistoryMessage, MessageId, QUOTE_CHARS, REACTION_NAMES,
    ReactedPayload, Reaction, UserId,
};

impl ChatMessage {
    /// As history now has it (a page read after what is shown).
    fn take_state(&mut self, m: HistoryMessage) {
        if m.change > self.change {
            self.content = m.content;
            self.change = m.change;
            self.edited = m.edited_at.is_some();
            self.reply = m.reply;
            self.reactions = m.reactions;
            self.attachments = m.attachments;
        }
    }
}

impl Timeline {
    /// Quotes of `id` follow its text (edited, or gone).
    fn requote(&mut self, id: &MessageId, text: Option<&str>) {
        for m in &mut self.messages {
            if let Some(quote) = m.reply.as_mut().filter(|q| &q.message_id == id) {
                quote.text = text.map(|t| t.chars().take(QUOTE_CHARS).collect());
            }
        }
    }

    /// `message.edited`: the new text, if this is news.
    pub(crate) fn edited(&mut self, edit: EditedPayload) -> bool {
        if edit.conversation_id != self.conversation_id {
            return false;
        }
        self.heard(edit.change);
        let Some(m) = self
            .find_mut(&edit.message_id)
            .filter(|m| edit.change > m.change)
        else {
            return false;
        };
        m.change = edit.change;
        m.edited = true;
        m.content = Some(edit.content.clone());
        self.requote(&edit.message_id, Some(edit.content.as_str()));
        true
    }

    /// `message.deleted`: text and reactions gone, the place kept.
    pub(crate) fn deleted(&mut self, gone: DeletedPayload) -> bool {
        if gone.conversation_id != self.conversation_id {
            return false;
        }
        self.heard(gone.change);
        let Some(m) = self
            .find_mut(&gone.message_id)
            .filter(|m| gone.change > m.change)
        else {
            return false;
        };
        m.change = gone.change;
        m.content = None;
        m.reactions.clear();
        m.attachments.clear();
        self.requote(&gone.message_id, None);
        true
    }

    /// `reaction.added` (`added`) or `reaction.removed`. Each is told once
    /// per real change, so counting it is exact; one older than what is
    /// shown is already counted.
    pub(crate) fn reacted(&mut self, r: ReactedPayload, added: bool, me: UserId) -> bool {
        if r.conversation_id != self.conversation_id {
            return false;
        }
        self.heard(r.change);
        let Some(m) = self.find_mut(&r.message_id).filter(|m| r.change > m.change) else {
            return false;
        };
        m.change = r.change;
        let at = m.reactions.iter().position(|x| x.emoji == r.emoji);
        match (at, added) {
            (Some(at), true) => {
                let x = &mut m.reactions[at];
                x.count += 1;
                x.mine |= r.user_id == me;
                if x.users.len() < REACTION_NAMES && !x.users.contains(&r.user_id) {
                    x.users.push(r.user_id);
                }
            }
            (None, true) => m.reactions.push(Reaction {
                emoji: r.emoji,
                count: 1,
                mine: r.user_id == me,
                users: vec![r.user_id],
            }),
            (Some(at), false) => {
                let x = &mut m.reactions[at];
                x.count -= 1;
                if r.user_id == me {
                    x.mine = false;
                }
                x.users.retain(|u| *u != r.user_id);
                if x.count <= 0 {
                    m.reactions.remove(at);
                }
            }
            (None, false) => {}
        }
        true
    }

    /// What changed while this page was not listening (`changes?since=`):
    /// each message shown takes its present state; the point moves to
    /// `last_change`. Messages not shown are left to history (new ones
    /// come with the newest page).
    pub(crate) fn changes(&mut self, messages: Vec<HistoryMessage>, last_change: i64) {
        for m in messages {
            let quote_text = m.content.as_ref().map(|c| c.to_string());
            let id = m.message_id.clone();
            if let Some(shown) = self.find_mut(&id) {
                shown.take_state(m);
                self.requote(&id, quote_text.as_deref());
            }
        }
        self.last_change = self.last_change.max(last_change);
    }
}
