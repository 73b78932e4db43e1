//! Files being uploaded, as the chips above the composer show them: each
//! is uploaded on its own as soon as it is picked (dropped, pasted), with
//! its progress, and can be taken back. Those picked since the last message
//! go with the next one; a message written while some of them are still on
//! their way takes them along and waits for them (`Chat::hold`), and
//! [`Uploads::take_ready`] says when it may go.
//!
//! Kept apart from the chat itself: progress changes many times a second,
//! and nothing but the chips needs to hear of it.

use crate::protocol::{Attachment, ConversationId, MAX_ATTACHMENTS, MessageId};

/// Which upload: made by [`Uploads::add`].
pub(crate) type UploadKey = u32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UploadState {
    /// On its way: bytes sent so far.
    Sending { sent: u64 },
    /// Stored by the server.
    Done(Attachment),
    /// Refused or broken off; why, in the server's words.
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Upload {
    pub(crate) key: UploadKey,
    pub(crate) conversation: ConversationId,
    pub(crate) name: String,
    /// Bytes.
    pub(crate) size: u64,
    pub(crate) state: UploadState,
    /// The message written with it, which waits for it; `None` while it
    /// is for the next message.
    pub(crate) message: Option<MessageId>,
}

impl Upload {
    pub(crate) fn is_sending(&self) -> bool {
        matches!(self.state, UploadState::Sending { .. })
    }

    /// How far it is, in percent.
    pub(crate) fn percent(&self) -> u64 {
        match self.state {
            UploadState::Sending { sent } => (sent.min(self.size) * 100)
                .checked_div(self.size)
                .unwrap_or(0),
            UploadState::Done(_) => 100,
            UploadState::Failed(_) => 0,
        }
    }
}

/// What writing a message finds among the uploads of its conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// All done (or none at all): the message goes now, with these.
    Now(Vec<Attachment>),
    /// Some are still on their way: the message waits for them.
    Wait,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Uploads {
    /// In the order picked.
    items: Vec<Upload>,
    next: UploadKey,
}

impl Uploads {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Upload> {
        self.items.iter()
    }

    /// The chips of `conversation`: those for the next message, and those
    /// of messages waiting for them.
    pub(crate) fn of(&self, conversation: ConversationId) -> impl Iterator<Item = &Upload> {
        self.items
            .iter()
            .filter(move |u| u.conversation == conversation)
    }

    fn get_mut(&mut self, key: UploadKey) -> Option<&mut Upload> {
        self.items.iter_mut().find(|u| u.key == key)
    }

    /// A file picked for the next message in `conversation`: its key, and
    /// whether to upload it (`false`: the message has all the files it may
    /// carry, and the chip says so).
    pub(crate) fn add(
        &mut self,
        conversation: ConversationId,
        name: String,
        size: u64,
    ) -> (UploadKey, bool) {
        let key = self.next;
        self.next += 1;
        let taken = self
            .items
            .iter()
            .filter(|u| {
                u.conversation == conversation
                    && u.message.is_none()
                    && !matches!(u.state, UploadState::Failed(_))
            })
            .count();
        let room = taken < MAX_ATTACHMENTS;
        let state = if room {
            UploadState::Sending { sent: 0 }
        } else {
            UploadState::Failed(format!("a message carries at most {MAX_ATTACHMENTS} files"))
        };
        self.items.push(Upload {
            key,
            conversation,
            name,
            size,
            state,
            message: None,
        });
        (key, room)
    }

    /// `sent` bytes of it are on their way. False if nothing shown changed
    /// (it is gone, or not a whole percent further).
    pub(crate) fn progress(&mut self, key: UploadKey, sent: u64) -> bool {
        let Some(upload) = self.get_mut(key).filter(|u| u.is_sending()) else {
            return false;
        };
        let before = upload.percent();
        upload.state = UploadState::Sending { sent };
        upload.percent() != before
    }

    /// It is over: stored (the server's description) or not (why).
    pub(crate) fn finished(&mut self, key: UploadKey, result: Result<Attachment, String>) -> bool {
        let Some(upload) = self.get_mut(key).filter(|u| u.is_sending()) else {
            return false;
        };
        upload.state = match result {
            Ok(attachment) => UploadState::Done(attachment),
            Err(reason) => UploadState::Failed(reason),
        };
        true
    }

    /// Taken back (✕): gone, with the message it was for no longer
    /// waiting for it. The upload, to break off if it is still sending.
    pub(crate) fn remove(&mut self, key: UploadKey) -> Option<Upload> {
        let at = self.items.iter().position(|u| u.key == key)?;
        Some(self.items.remove(at))
    }

    /// A message is written in `conversation`: what it carries. The files
    /// picked for it that are done go now (and leave the chips); if some
    /// are still sending, they all become the message `id`'s, which waits.
    /// Failed ones stay, with their reason, for the person to take away.
    pub(crate) fn write(&mut self, conversation: ConversationId, id: &MessageId) -> Outcome {
        let mine = |u: &Upload| u.conversation == conversation && u.message.is_none();
        if self.items.iter().any(|u| mine(u) && u.is_sending()) {
            for upload in self.items.iter_mut().filter(|u| mine(u)) {
                if !matches!(upload.state, UploadState::Failed(_)) {
                    upload.message = Some(id.clone());
                }
            }
            return Outcome::Wait;
        }
        Outcome::Now(self.take(|u| mine(u)))
    }

    /// The messages whose uploads are all over, each with the files that
    /// made it, in the order picked; those uploads leave the chips (failed
    /// ones stay, with their reason).
    pub(crate) fn take_ready(&mut self) -> Vec<(MessageId, Vec<Attachment>)> {
        let mut ready: Vec<MessageId> = Vec::new();
        for upload in &self.items {
            if let Some(id) = &upload.message
                && !ready.contains(id)
                && !self
                    .items
                    .iter()
                    .any(|u| u.message.as_ref() == Some(id) && u.is_sending())
            {
                ready.push(id.clone());
            }
        }
        ready
            .into_iter()
            .map(|id| {
                let files = self.take(|u| u.message.as_ref() == Some(&id));
                (id, files)
            })
            .collect()
    }

    /// The done uploads that `which` picks, out of the list.
    fn take(&mut self, which: impl Fn(&Upload) -> bool) -> Vec<Attachment> {
        let mut files = Vec::new();
        self.items.retain(|u| match (&u.state, which(u)) {
            (UploadState::Done(attachment), true) => {
                files.push(attachment.clone());
                false
            }
            _ => true,
        });
        // A failed one has no message left to wait for it.
        for upload in &mut self.items {
            if which(upload) {
                upload.message = None;
            }
        }
        files
    }
}

#[cfg(test)]
#[path = "uploads_tests.rs"]
mod tests;
