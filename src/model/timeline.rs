//! The open conversation as the person sees it: stored messages in the
//! server's order, then their own messages still on the way.
//!
//! Every message appears once, whatever mix of history pages, live
//! `message.receive` events, catch-up after a reconnect and resends of the
//! outbox brings it: the message id is the key.

use crate::protocol::{
    Attachment, Content, ConversationId, HistoryMessage, HistoryPage, HistoryWindow, MessageId,
    MessagePayload, Quote, Reaction, UserId,
};
use std::collections::HashSet;

/// Where one of my messages is on its way to the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Stored by the server (acknowledged, or loaded from history).
    Sent,
    /// Shown at once; not acknowledged yet (kept in the outbox).
    Pending,
    /// Turned away for now (`unavailable`, `rate_limited`): still in the
    /// outbox, which sends it again by itself; the server's words.
    Retrying { reason: String },
    /// Refused for good; the reason. The person may send it again.
    Failed { reason: String },
    /// Written, and waiting for its files to finish uploading before it
    /// goes to the outbox.
    Uploading,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChatMessage {
    pub(crate) message_id: MessageId,
    pub(crate) sender_id: UserId,
    /// `None` once deleted.
    pub(crate) content: Option<Content>,
    pub(crate) timestamp: i64,
    pub(crate) status: Status,
    /// The conversation's change this state is as of (0: not known yet, a
    /// message of mine on its way).
    pub(crate) change: i64,
    pub(crate) edited: bool,
    /// The message it answers.
    pub(crate) reply: Option<Quote>,
    pub(crate) reactions: Vec<Reaction>,
    /// Its files, in the order sent.
    pub(crate) attachments: Vec<Attachment>,
}

impl ChatMessage {
    pub(crate) fn from_history(m: HistoryMessage) -> Self {
        Self {
            message_id: m.message_id,
            sender_id: m.sender_id,
            content: m.content,
            timestamp: m.timestamp,
            status: Status::Sent,
            change: m.change,
            edited: m.edited_at.is_some(),
            reply: m.reply,
            reactions: m.reactions,
            attachments: m.attachments,
        }
    }

    pub(crate) fn from_payload(m: MessagePayload, status: Status) -> Self {
        Self {
            message_id: m.message_id,
            sender_id: m.sender_id,
            content: Some(m.content),
            timestamp: m.timestamp,
            status,
            change: m.change.unwrap_or(0),
            edited: false,
            reply: m.reply,
            reactions: Vec::new(),
            attachments: m.attachments,
        }
    }

    pub(crate) fn is_stored(&self) -> bool {
        self.status == Status::Sent
    }

    /// Mine and on its way (not refused for good).
    fn is_unsent(&self) -> bool {
        matches!(self.status, Status::Pending | Status::Retrying { .. })
    }

    /// Files only: no text to show (or to quote, or to edit).
    pub(crate) fn has_no_text(&self) -> bool {
        self.content.as_ref().is_some_and(|c| c.is_empty())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Timeline {
    pub(crate) conversation_id: ConversationId,
    /// Oldest first. Stored messages come first, in the server's order;
    /// pending and failed ones of mine follow.
    messages: Vec<ChatMessage>,
    ids: HashSet<MessageId>,
    /// The cursor for the next older page, `None` when the start is loaded.
    older: Option<MessageId>,
    /// Every change of the conversation up to this one is shown: the point
    /// to ask for the changes after, on a reconnect.
    last_change: i64,
    /// Opened around a message (a search result): the cursor for the next
    /// newer page, `None` once the newest is loaded. Until then live
    /// messages wait for their page (they would land after a gap).
    newer: Option<MessageId>,
}

impl Timeline {
    /// From the newest history page (newest first, as the API answers).
    pub(crate) fn from_page(page: HistoryPage) -> Self {
        let mut timeline = Self {
            conversation_id: page.conversation_id,
            messages: Vec::with_capacity(page.messages.len()),
            ids: HashSet::new(),
            older: page.next_cursor,
            last_change: page.last_change,
            newer: None,
        };
        for m in page.messages.into_iter().rev() {
            if timeline.ids.insert(m.message_id.clone()) {
                timeline.messages.push(ChatMessage::from_history(m));
            }
        }
        timeline
    }

    pub(crate) fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }

    pub(crate) fn older_cursor(&self) -> Option<&MessageId> {
        self.older.as_ref()
    }

    /// The cursor for the next newer page, while the newest is not loaded.
    pub(crate) fn newer_cursor(&self) -> Option<&MessageId> {
        self.newer.as_ref()
    }

    /// Opened around a message: newer pages follow from `newer`.
    pub(crate) fn set_newer(&mut self, newer: Option<MessageId>) {
        self.newer = newer;
    }

    /// A newer page (newest first) loaded by scrolling down: appended after
    /// the stored messages, anything already shown skipped. Returns how
    /// many were added.
    pub(crate) fn append_newer(&mut self, window: HistoryWindow) -> usize {
        if window.page.conversation_id != self.conversation_id || self.newer.is_none() {
            return 0;
        }
        self.newer = window.newer_cursor;
        self.last_change = self.last_change.max(window.page.last_change);
        let newer: Vec<ChatMessage> = window
            .page
            .messages
            .into_iter()
            .rev()
            .filter(|m| self.ids.insert(m.message_id.clone()))
            .map(ChatMessage::from_history)
            .collect();
        let added = newer.len();
        let at = self.stored_end();
        self.messages.splice(at..at, newer);
        added
    }

    /// Where `id` is shown, oldest first.
    pub(crate) fn position(&self, id: &MessageId) -> Option<usize> {
        if !self.ids.contains(id) {
            return None;
        }
        self.messages.iter().position(|m| &m.message_id == id)
    }

    /// The newest stored message (what a read marker points at).
    pub(crate) fn newest_stored(&self) -> Option<&ChatMessage> {
        self.messages.iter().rev().find(|m| m.is_stored())
    }

    /// Index of the first message not yet stored: new stored messages go
    /// before it.
    fn stored_end(&self) -> usize {
        self.messages
            .iter()
            .position(|m| !m.is_stored())
            .unwrap_or(self.messages.len())
    }

    /// An older page (newest first) loaded by scrolling up: prepended, with
    /// anything already shown skipped. Returns how many were added.
    pub(crate) fn prepend_older(&mut self, page: HistoryPage) -> usize {
        if page.conversation_id != self.conversation_id {
            return 0;
        }
        self.older = page.next_cursor;
        let older: Vec<ChatMessage> = page
            .messages
            .into_iter()
            .rev()
            .filter(|m| self.ids.insert(m.message_id.clone()))
            .map(ChatMessage::from_history)
            .collect();
        let added = older.len();
        self.messages.splice(0..0, older);
        added
    }

    /// Since when changes must be asked for to be sure none was missed.
    pub(crate) fn last_change(&self) -> i64 {
        self.last_change
    }

    /// A live change numbered `change` was applied: the point moves on if
    /// it was the next one (after a gap it stays, so the next catch-up
    /// asks for what fell in it).
    fn heard(&mut self, change: i64) {
        if change == self.last_change + 1 {
            self.last_change = change;
        }
    }

    pub(crate) fn get(&self, id: &MessageId) -> Option<&ChatMessage> {
        if !self.ids.contains(id) {
            return None;
        }
        self.messages.iter().find(|m| &m.message_id == id)
    }

    fn find_mut(&mut self, id: &MessageId) -> Option<&mut ChatMessage> {
        if !self.ids.contains(id) {
            return None;
        }
        self.messages.iter_mut().find(|m| &m.message_id == id)
    }

    /// A `message.receive` for this conversation. False if it was already
    /// shown (a duplicate delivery, or my own message from another tab that
    /// this tab also holds).
    pub(crate) fn receive(&mut self, message: MessagePayload) -> bool {
        if message.conversation_id != self.conversation_id {
            return false;
        }
        if let Some(change) = message.change {
            self.heard(change);
        }
        if self.newer.is_some() {
            // Far back in history: it comes with the newest page.
            return false;
        }
        if self.ids.contains(&message.message_id) {
            // My own pending message, stored and delivered via another tab:
            // it is stored now.
            if let Some(existing) = self
                .messages
                .iter_mut()
                .find(|m| m.message_id == message.message_id)
                && existing.is_unsent()
            {
                existing.status = Status::Sent;
            }
            return false;
        }
        self.ids.insert(message.message_id.clone());
        let at = self.stored_end();
        self.messages
            .insert(at, ChatMessage::from_payload(message, Status::Sent));
        true
    }

    /// Shows my message at once, as pending (no-op if already shown).
    pub(crate) fn push_pending(&mut self, message: MessagePayload) -> bool {
        self.push_unsent(message, Status::Pending)
    }

    /// Shows my message at once, as `status` (pending, or waiting for its
    /// uploads); no-op if already shown.
    pub(crate) fn push_unsent(&mut self, message: MessagePayload, status: Status) -> bool {
        if message.conversation_id != self.conversation_id
            || !self.ids.insert(message.message_id.clone())
        {
            return false;
        }
        self.messages
            .push(ChatMessage::from_payload(message, status));
        true
    }

    /// My message waiting for its uploads has them: it is on its way, with
    /// these files.
    pub(crate) fn uploaded(&mut self, id: &MessageId, attachments: &[Attachment]) -> bool {
        match self.find_mut(id) {
            Some(m) if m.status == Status::Uploading => {
                m.status = Status::Pending;
                m.attachments = attachments.to_vec();
                true
            }
            _ => false,
        }
    }

    /// My message that never went (its files failed, and it had no text):
    /// gone from the screen.
    pub(crate) fn discard(&mut self, id: &MessageId) -> bool {
        let Some(at) = self
            .messages
            .iter()
            .position(|m| &m.message_id == id && !m.is_stored())
        else {
            return false;
        };
        self.messages.remove(at);
        self.ids.remove(id);
        true
    }

    /// `message.ack`: stored. The message joins the stored ones, after those
    /// already there (the server stored it after every message it delivered
    /// to us before this ack).
    pub(crate) fn ack(&mut self, id: &MessageId, timestamp: i64, change: Option<i64>) -> bool {
        if let Some(change) = change {
            self.heard(change);
        }
        let Some(index) = self.messages.iter().position(|m| &m.message_id == id) else {
            return false;
        };
        if self.messages[index].status == Status::Sent {
            return false;
        }
        let mut message = self.messages.remove(index);
        message.status = Status::Sent;
        message.timestamp = timestamp;
        message.change = change.unwrap_or(message.change);
        let at = self.stored_end();
        self.messages.insert(at, message);
        true
    }

    /// Refused for good.
    pub(crate) fn fail(&mut self, id: &MessageId, reason: String) -> bool {
        self.set_unsent(id, Status::Failed { reason })
    }

    /// Turned away for now; the outbox tries again.
    pub(crate) fn retrying(&mut self, id: &MessageId, reason: String) -> bool {
        self.set_unsent(id, Status::Retrying { reason })
    }

    fn set_unsent(&mut self, id: &MessageId, status: Status) -> bool {
        match self.messages.iter_mut().find(|m| &m.message_id == id) {
            Some(m) if m.status != Status::Sent => {
                m.status = status;
                true
            }
            _ => false,
        }
    }

    /// A failed message goes back to pending (the person pressed retry).
    pub(crate) fn retry(&mut self, id: &MessageId) -> Option<&ChatMessage> {
        let m = self.messages.iter_mut().find(|m| &m.message_id == id)?;
        if !matches!(m.status, Status::Failed { .. }) {
            return None;
        }
        m.status = Status::Pending;
        Some(m)
    }

    /// The newest page fetched after a reconnect (newest first). The page is
    /// the server's truth for the newest messages: what was missed is
    /// inserted in the server's order, my pending messages that it holds are
    /// stored after all (their ack was lost), and messages that arrived live
    /// after the page was read stay after it. If the page does not reach
    /// back to anything shown, the hole cannot be bridged: the timeline
    /// restarts from this page and older pages load on scroll as usual.
    pub(crate) fn catch_up(&mut self, page: HistoryPage) {
        // An empty page was read before anything shown was stored (a
        // message acked while the page was on its way): it has nothing
        // to add, and restarting from it would take that message away.
        // Opened far back (a search result): the newest page is not next
        // to what is shown; it comes by scrolling down.
        if page.conversation_id != self.conversation_id
            || page.messages.is_empty()
            || self.newer.is_some()
        {
            return;
        }
        let in_page: HashSet<MessageId> =
            page.messages.iter().map(|m| m.message_id.clone()).collect();
        let (stored, unstored): (Vec<ChatMessage>, Vec<ChatMessage>) =
            std::mem::take(&mut self.messages)
                .into_iter()
                .partition(ChatMessage::is_stored);
        let unstored = unstored
            .into_iter()
            .filter(|m| !in_page.contains(&m.message_id));
        let first = stored.iter().position(|m| in_page.contains(&m.message_id));
        let last = stored.iter().rposition(|m| in_page.contains(&m.message_id));
        let (older, newer): (Vec<ChatMessage>, Vec<ChatMessage>) = match (first, last) {
            (Some(first), Some(last)) => {
                let mut stored = stored;
                let newer = stored.split_off(last + 1);
                stored.truncate(first);
                (stored, newer)
            }
            _ => {
                self.older = page.next_cursor.clone();
                (Vec::new(), Vec::new())
            }
        };
        let fresh = page
            .messages
            .into_iter()
            .rev()
            .map(ChatMessage::from_history);
        self.messages = older
            .into_iter()
            .chain(fresh)
            .chain(newer)
            .chain(unstored)
            .collect();
        self.ids = self.messages.iter().map(|m| m.message_id.clone()).collect();
    }
}

// Edits, deletions, reactions and missed changes, in a file of their own.
#[path = "timeline_changes.rs"]
mod changes;

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
