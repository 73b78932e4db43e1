//! "What did I miss": where the unread messages of a conversation begin
//! (the "New messages" line), the count in the tab's title, muting, marking
//! everything read, and which new messages deserve a notification.
//! Plain data like the rest of the model: the page decides only how to
//! show them.

use super::chat::{Chat, Effect};
use super::inbox::InboxList;
use super::timeline::Timeline;
use crate::protocol::{
    ClientEvent, ConversationId, ConversationKind, MemberMarkers, MessageId, MessagePayload,
    ReadPayload, UserId,
};

/// A browser notification the page should raise (if the person turned
/// them on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Notice {
    pub(crate) conversation: ConversationId,
    /// Who wrote, and where in a group: "alice in Weekend plans".
    pub(crate) title: String,
    /// The start of the message.
    pub(crate) body: String,
}

/// How much of a message a notification shows.
const PREVIEW_CHARS: usize = 140;

/// The unread messages of the conversations that are not muted: the
/// count in the tab's title and on its icon. (Muted ones still show their
/// badge in the inbox.)
pub(crate) fn title_count(inbox: &InboxList) -> i64 {
    inbox
        .entries()
        .iter()
        .filter(|e| !e.muted)
        .map(|e| e.unread_count)
        .sum()
}

/// "(3) " before the page's title while anything is unread.
pub(crate) fn titled(count: i64, title: &str) -> String {
    if count > 0 {
        format!("({count}) {title}")
    } else {
        title.to_owned()
    }
}

/// Where the "New messages" line goes when a conversation opens: above
/// the first message after my read marker (`markers`, as the page came
/// with them), if it is one of the others' and on this page. When the
/// marker is older than the whole page, above the page's first message.
/// None when nothing is unread.
pub(crate) fn first_unread(
    markers: &[MemberMarkers],
    me: UserId,
    timeline: &Timeline,
) -> Option<MessageId> {
    let mine = markers.iter().find(|m| m.user_id == me)?;
    let messages = timeline.messages();
    let start = match &mine.read {
        // Never read anything here: everything is new.
        None => 0,
        Some(read) => match timeline.position(read) {
            Some(at) => at + 1,
            // Older than the page (markers come with the page, so it is
            // not newer), if older messages exist at all.
            None if timeline.older_cursor().is_some() => 0,
            None => return None,
        },
    };
    messages
        .get(start..)?
        .iter()
        .find(|m| m.sender_id != me && m.is_stored())
        .map(|m| m.message_id.clone())
}

impl Chat {
    /// I muted (`muted`) or unmuted `conversation` (here, or another tab
    /// did: `conversation.muted`).
    pub(crate) fn muted(&mut self, conversation: ConversationId, muted: bool) {
        self.inbox.set_muted(conversation, muted);
        if let Some(open) = self
            .open
            .as_mut()
            .filter(|c| c.conversation_id == conversation)
        {
            open.muted = muted;
        }
    }

    /// Whether `conversation` is muted, as far as this page knows.
    pub(crate) fn is_muted(&self, conversation: ConversationId) -> bool {
        match self.inbox.get(conversation) {
            Some(row) => row.muted,
            None => self
                .open
                .as_ref()
                .is_some_and(|c| c.conversation_id == conversation && c.muted),
        }
    }

    /// "Mark all as read": every listed conversation with unread messages
    /// is read up to its newest, one `conversation.read` each (the server
    /// tells my other tabs, and the others' ticks move). Only while
    /// connected: a marker is never queued.
    pub(crate) fn mark_all_read(&mut self) -> Vec<Effect> {
        if !self.connected() {
            return Vec::new();
        }
        let unread: Vec<(ConversationId, MessageId)> = self
            .inbox
            .entries()
            .iter()
            .filter(|row| row.unread_count > 0)
            .filter_map(|row| Some((row.conversation_id, row.last_message_id.clone()?)))
            .collect();
        let mut effects = Vec::new();
        for (conversation, newest) in unread {
            self.inbox.mark_read(conversation);
            effects.push(Effect::Send(ClientEvent::Read(ReadPayload {
                conversation_id: conversation,
                message_id: newest,
            })));
        }
        effects
    }

    /// A message that just arrived: the notification it deserves, if any.
    /// Not my own, not one already listed (a repeat), not one shown to me
    /// right now (the open conversation in a visible tab); not in a muted
    /// conversation, unless it mentions me.
    pub(crate) fn notice(&self, message: &MessagePayload, visible: bool) -> Option<Notice> {
        let me = self.me();
        let conversation = message.conversation_id;
        if message.sender_id == me.user_id || (visible && self.open_id() == Some(conversation)) {
            return None;
        }
        let row = self.inbox.get(conversation);
        if row.is_some_and(|r| r.last_message_id.as_ref() == Some(&message.message_id)) {
            return None;
        }
        if self.is_muted(conversation) && !message.mentions.contains(&me.username) {
            return None;
        }
        let sender = self
            .known_sender(conversation, message.sender_id)
            .unwrap_or("Someone");
        let title = match row {
            Some(r) if r.kind == ConversationKind::Group => match &r.title {
                Some(group) => format!("{sender} in {group}"),
                None => format!("{sender} in a group"),
            },
            _ => sender.to_owned(),
        };
        let mut body: String = message.content.chars().take(PREVIEW_CHARS).collect();
        if body.is_empty() {
            body = crate::protocol::attachment_preview(&message.attachments)
                .unwrap_or_else(|| "New message".to_owned());
        }
        Some(Notice {
            conversation,
            title,
            body,
        })
    }

    /// A sender's name: from the open conversation's members, or the few
    /// names the inbox row carries.
    fn known_sender(&self, conversation: ConversationId, user: UserId) -> Option<&str> {
        let open = self
            .open
            .as_ref()
            .filter(|c| c.conversation_id == conversation)
            .into_iter()
            .flat_map(|c| c.participants.iter().chain(&c.former_participants));
        let row = self
            .inbox
            .get(conversation)
            .into_iter()
            .flat_map(|r| &r.participants);
        open.chain(row)
            .find(|p| p.user_id == user)
            .map(|p| p.username.as_str())
    }
}

#[cfg(test)]
#[path = "unread_tests.rs"]
mod tests;
