//! Writing a message, and the files that go with it: each upload's
//! progress and end, as the page's uploader reports them, and the messages
//! that were waiting for them sent when they are done.

use super::ChatStore;
use crate::model::uploads::{Outcome, Upload, UploadKey};
use crate::protocol::{Attachment, Content, ConversationId, MessageId};
use leptos::prelude::*;

impl ChatStore {
    /// I write a message in `conversation`, with the files picked for it:
    /// it goes now, or when those still uploading are done. False when
    /// there was nothing to send (no text, no file).
    pub(crate) fn send(&self, conversation: ConversationId, content: Content) -> bool {
        let id = MessageId::new_v7();
        let outcome = self.uploads.try_update(|u| u.write(conversation, &id));
        match outcome {
            Some(Outcome::Wait) => {
                self.change(|chat, clock| chat.hold(conversation, content, id, clock.now_ms()));
            }
            Some(Outcome::Now(files)) if !files.is_empty() => {
                self.change(|chat, clock| {
                    chat.write_with_files(conversation, content, files, id, clock.now_ms())
                });
            }
            _ if content.is_empty() => return false,
            _ => self.change(|chat, clock| chat.write(conversation, content, id, clock.now_ms())),
        }
        true
    }

    /// A file picked for the next message: its key, and whether to upload
    /// it (see [`crate::model::uploads::Uploads::add`]).
    pub(crate) fn add_upload(
        &self,
        conversation: ConversationId,
        name: String,
        size: u64,
    ) -> (UploadKey, bool) {
        self.uploads
            .try_update(|u| u.add(conversation, name, size))
            .unwrap_or((0, false))
    }

    /// `sent` bytes of upload `key` are on their way (re-renders only when
    /// the percentage shown changes).
    pub(crate) fn upload_progress(&self, key: UploadKey, sent: u64) {
        self.uploads.maybe_update(|u| u.progress(key, sent));
    }

    /// Upload `key` is over.
    pub(crate) fn upload_finished(&self, key: UploadKey, result: Result<Attachment, String>) {
        self.uploads.maybe_update(|u| u.finished(key, result));
        self.send_ready();
    }

    /// Upload `key` taken back (✕): the upload, to break off if it is
    /// still sending.
    pub(crate) fn remove_upload(&self, key: UploadKey) -> Option<Upload> {
        let removed = self.uploads.try_update(|u| u.remove(key)).flatten();
        self.send_ready();
        removed
    }

    /// Messages whose files are all over go, with those that made it.
    fn send_ready(&self) {
        let ready = self
            .uploads
            .try_update(|u| u.take_ready())
            .unwrap_or_default();
        for (id, files) in ready {
            self.change(|chat, clock| chat.uploads_done(&id, files, clock.now_ms()));
        }
    }
}
