//! The browser's side of files in a conversation: each file picked,
//! dropped or pasted is uploaded (`crate::client::upload`) and its
//! progress and end go to the chat store; files dragged over the
//! conversation are welcome there. Loaded with the conversation's page only.

use crate::client::upload::{self, UploadEvents};
use crate::components::uploads::{Uploader, files_of};
use crate::model::uploads::UploadKey;
use crate::protocol::{Attachment, ConversationId, clean_file_name};
use crate::store::ChatStore;
use leptos::ev::DragEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The conversation's uploader, for its components.
pub(crate) fn uploader() -> Uploader {
    Uploader {
        add,
        abort: upload::abort,
    }
}

fn add(store: ChatStore, conversation: ConversationId, files: Vec<web_sys::File>) {
    for file in files {
        let name = clean_file_name(&file.name());
        let (key, go) = store.add_upload(conversation, name.clone(), file.size() as u64);
        if go {
            upload::start(key, conversation, &file, &name, Reports { store, key });
        }
    }
}

/// An upload's news, for the store.
struct Reports {
    store: ChatStore,
    key: UploadKey,
}

impl UploadEvents for Reports {
    fn progress(&self, sent: u64) {
        self.store.upload_progress(self.key, sent);
    }

    fn finished(&self, result: Result<Attachment, String>) {
        self.store.upload_finished(self.key, result);
    }
}

/// Whether what is dragged holds files (not a link or a piece of text).
fn holds_files(ev: &DragEvent) -> bool {
    ev.data_transfer()
        .is_some_and(|d| d.types().includes(&"Files".into(), 0))
}

/// Files dragged over the conversation: dropping them is welcome (shown
/// by `dragging`).
pub(crate) fn drag_over(ev: &DragEvent, dragging: RwSignal<bool>) {
    if holds_files(ev) {
        ev.prevent_default();
        if let Some(d) = ev.data_transfer() {
            d.set_drop_effect("copy");
        }
        if !dragging.get_untracked() {
            dragging.set(true);
        }
    }
}

/// The drag left the conversation (not just one of its parts).
pub(crate) fn drag_leave(ev: &DragEvent, dragging: RwSignal<bool>) {
    let inside = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
        .zip(
            ev.related_target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok()),
        )
        .is_some_and(|(zone, to)| zone.contains(Some(&to)));
    if !inside {
        dragging.set(false);
    }
}

/// Files dropped on the conversation: uploaded for the next message.
pub(crate) fn dropped(
    ev: &DragEvent,
    dragging: RwSignal<bool>,
    store: ChatStore,
    conversation: ConversationId,
) {
    dragging.set(false);
    if !holds_files(ev) {
        return;
    }
    ev.prevent_default();
    let files = files_of(ev.data_transfer().and_then(|d| d.files()));
    add(store, conversation, files);
}
