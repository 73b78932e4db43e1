//! Files for the next message: the paperclip (a plain file input of the
//! composer's form, which without JavaScript posts the files with the
//! message) and, hydrated, a chip per upload above the box, with its
//! progress, its error, and ✕ to break it off or take it back.

use crate::model::uploads::{UploadKey, UploadState};
use crate::protocol::ConversationId;
use crate::store::ChatStore;
use leptos::prelude::*;

/// What the page does with files, hydrated (`crate::pages`): upload them,
/// or break an upload off. Given as context by the open conversation.
#[cfg(feature = "hydrate")]
#[derive(Clone, Copy)]
pub(crate) struct Uploader {
    /// Uploads these files for the next message in the conversation.
    pub(crate) add: fn(ChatStore, ConversationId, Vec<web_sys::File>),
    /// Breaks off upload `key` (if it is still on its way).
    pub(crate) abort: fn(UploadKey),
}

#[cfg(feature = "hydrate")]
impl Uploader {
    /// The open conversation's (read while rendering: handlers run
    /// outside the components' context).
    pub(crate) fn get() -> Option<Self> {
        use_context::<Self>()
    }

    /// Uploads `files` for the next message in `conversation`.
    pub(crate) fn upload(
        uploader: Option<Self>,
        store: ChatStore,
        conversation: ConversationId,
        files: Vec<web_sys::File>,
    ) {
        if let Some(uploader) = uploader
            && !files.is_empty()
        {
            (uploader.add)(store, conversation, files);
        }
    }
}

/// The files of a list the browser gives (a file input, a drop, a paste).
#[cfg(feature = "hydrate")]
pub(crate) fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
        .unwrap_or_default()
}

/// The paperclip: a label for the form's file input (`files`), which stays
/// in the form for a post without JavaScript. Hydrated, each file picked is
/// uploaded at once and the input is emptied again.
#[component]
pub(crate) fn AttachButton(conversation: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    #[cfg(feature = "hydrate")]
    let uploader = Uploader::get();
    let picked = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            Uploader::upload(uploader, store, conversation, files_of(input.files()));
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, store, conversation);
    };
    view! {
        // The paperclip is drawn by the stylesheet.
        <label class="attach" title="Attach files">
            <input type="file" name="files" multiple aria-label="Attach files" data-testid="attach-input" on:change=picked/>
        </label>
    }
}

/// The uploads of `conversation`, a chip each.
#[component]
pub(crate) fn UploadChips(conversation: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let keys = Memo::new(move |_| {
        store
            .uploads
            .with(|u| u.of(conversation).map(|u| u.key).collect::<Vec<_>>())
    });
    view! {
        <Show when=move || keys.with(|k| !k.is_empty())>
            <ul class="uploads" data-testid="uploads" aria-label="Files to send">
                <For each=move || keys.get() key=|k| *k let:key>
                    {chip(store, key)}
                </For>
            </ul>
        </Show>
    }
}

fn chip(store: ChatStore, key: UploadKey) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    let uploader = Uploader::get();
    let upload = move || {
        store
            .uploads
            .with(|u| u.iter().find(|u| u.key == key).cloned())
    };
    let name = upload().map(|u| u.name).unwrap_or_default();
    let state = Memo::new(move |_| upload().map(|u| u.state));
    let percent = Memo::new(move |_| upload().map_or(0, |u| u.percent()));
    let waiting = Memo::new(move |_| upload().is_some_and(|u| u.message.is_some()));
    let tag = move || match state.get() {
        Some(UploadState::Sending { .. }) => "sending",
        Some(UploadState::Done(_)) => "done",
        _ => "failed",
    };
    // A picture shows its thumbnail once uploaded; the rest an icon (the
    // stylesheet's, by `data-state`).
    let preview = move || match state.get() {
        Some(UploadState::Done(file)) if file.is_image() => Some(
            view! { <img class="upload-thumb" src=file.thumb_url() alt="" width="32" height="32"/> },
        ),
        _ => None,
    };
    let detail = move || match state.get() {
        Some(UploadState::Sending { .. }) => view! {
            <progress class="upload-progress" max="100" value=move || percent.get()
                aria-label="Uploaded" data-testid="upload-progress"></progress>
        }
        .into_any(),
        Some(UploadState::Failed(why)) => view! {
            <span class="upload-error" role="alert" data-testid="upload-error">{why}</span>
        }
        .into_any(),
        _ => ().into_any(),
    };
    let remove = move |_| {
        let removed = store.remove_upload(key);
        #[cfg(feature = "hydrate")]
        if removed.is_some_and(|u| u.is_sending())
            && let Some(uploader) = uploader
        {
            (uploader.abort)(key);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = removed;
    };
    let label = format!("Remove {name}");
    let title = name.clone();
    view! {
        <li class="upload" data-state=tag class:waiting=move || waiting.get() data-testid="upload" title=title>
            {preview}
            <span class="upload-about">
                <span class="upload-name">{name}</span>
                {detail}
            </span>
            <button type="button" class="upload-remove" aria-label=label.clone() title=label on:click=remove>"✕"</button>
        </li>
    }
}
