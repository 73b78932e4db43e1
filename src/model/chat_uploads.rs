//! Messages with files. Each file is uploaded on its own as soon as it is
//! picked (`super::super::uploads`); a message written while some of its
//! files are still on their way is shown at once, as uploading, and held
//! here, not in the outbox: it goes (and is kept where a reload finds it)
//! when the last of them is done, with the files that made it.

use super::{Chat, Effect};
use crate::model::timeline::Status;
use crate::protocol::{Attachment, Content, ConversationId, MessageId};

impl Chat {
    /// I write a message with these files, all uploaded: it goes as any
    /// message. Neither text nor files is no message.
    pub(crate) fn write_with_files(
        &mut self,
        conversation: ConversationId,
        content: Content,
        attachments: Vec<Attachment>,
        message_id: MessageId,
        now_ms: i64,
    ) -> Vec<Effect> {
        if content.is_empty() && attachments.is_empty() {
            return Vec::new();
        }
        let mut message = self.compose(conversation, content, message_id, now_ms);
        message.attachments = attachments;
        self.post(message, now_ms)
    }

    /// I write a message whose files are still uploading: shown at once,
    /// held until [`Self::uploads_done`].
    pub(crate) fn hold(
        &mut self,
        conversation: ConversationId,
        content: Content,
        message_id: MessageId,
        now_ms: i64,
    ) -> Vec<Effect> {
        let message = self.compose(conversation, content, message_id, now_ms);
        if let Some(t) = &mut self.timeline {
            t.push_unsent(message.clone(), Status::Uploading);
        }
        self.held.push(message);
        self.say_if_connected(|chat| chat.typing.done(conversation))
    }

    /// The uploads of held message `id` are over, these ones done: it goes,
    /// with them; with neither text nor files left, it is dropped.
    pub(crate) fn uploads_done(
        &mut self,
        id: &MessageId,
        attachments: Vec<Attachment>,
        now_ms: i64,
    ) -> Vec<Effect> {
        let Some(at) = self.held.iter().position(|m| &m.message_id == id) else {
            return Vec::new();
        };
        let mut message = self.held.remove(at);
        if message.content.is_empty() && attachments.is_empty() {
            if let Some(t) = &mut self.timeline {
                t.discard(id);
            }
            return Vec::new();
        }
        message.attachments = attachments;
        self.post(message, now_ms)
    }

    /// Messages not yet stored: in the outbox, or waiting for their files.
    pub(crate) fn unsent(&self) -> usize {
        self.outbox.len() + self.held.len()
    }
}
