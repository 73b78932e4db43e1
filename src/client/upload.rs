//! Uploading a file: `POST /api/v1/chat/{conversation}/attachments?name=…`
//! with the file as the body (docs/protocol.md 3.14), by XMLHttpRequest,
//! which (unlike fetch) reports the upload's progress and can be broken
//! off. The session cookie goes with it, as with every same-origin request.

use crate::protocol::{ApiError, Attachment, ConversationId};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{File, ProgressEvent, XmlHttpRequest};

/// What an upload tells its page.
pub(crate) trait UploadEvents {
    /// `sent` bytes are on their way.
    fn progress(&self, sent: u64);
    /// It is over: stored, or why not.
    fn finished(&self, result: Result<Attachment, String>);
}

/// An upload on its way, and the handlers it calls (dropped with it).
struct Live {
    key: u32,
    request: XmlHttpRequest,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
    _end: Closure<dyn FnMut()>,
}

thread_local! {
    static LIVE: RefCell<Vec<Live>> = const { RefCell::new(Vec::new()) };
}

/// Takes upload `key` out of the live ones: its handlers are unset, and
/// dropped once the handler that may be running has returned.
fn take(key: u32) -> Option<XmlHttpRequest> {
    let live = LIVE.with_borrow_mut(|all| {
        let at = all.iter().position(|l| l.key == key)?;
        Some(all.remove(at))
    })?;
    let request = live.request.clone();
    request.set_onloadend(None);
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(None);
    }
    leptos::task::spawn_local(async move { drop(live) });
    Some(request)
}

const NOT_STARTED: &str = "The upload could not start";

/// Why an upload that was answered `status` with `body` failed.
fn refusal(status: u16, body: &str) -> String {
    match serde_json::from_str::<ApiError>(body) {
        Ok(error) => error.message,
        // Broken off by the network, or the server closed it early (a
        // file far over the limit can be refused before it is read).
        Err(_) if status == 0 => "The upload failed: the connection was lost".to_owned(),
        Err(_) => "The upload failed".to_owned(),
    }
}

/// Starts uploading `file` to `conversation` as upload `key`.
pub(crate) fn start(
    key: u32,
    conversation: ConversationId,
    file: &File,
    name: &str,
    events: impl UploadEvents + 'static,
) {
    let events = std::rc::Rc::new(events);
    let Ok(request) = XmlHttpRequest::new() else {
        events.finished(Err(NOT_STARTED.to_owned()));
        return;
    };
    let name: String = js_sys::encode_uri_component(name).into();
    let url = format!("/api/v1/chat/{conversation}/attachments?name={name}");
    let kind = file.type_();
    let kind = if kind.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        kind
    };
    let on_progress = {
        let events = events.clone();
        Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            events.progress(ev.loaded() as u64);
        })
    };
    let on_end = {
        let (events, request) = (events.clone(), request.clone());
        Closure::<dyn FnMut()>::new(move || {
            if take(key).is_none() {
                // Broken off (✕): nobody is waiting for it.
                return;
            }
            let status = request.status().unwrap_or(0);
            let body = request.response_text().ok().flatten().unwrap_or_default();
            let result = match serde_json::from_str::<Attachment>(&body) {
                Ok(file) if status == 201 || status == 200 => Ok(file),
                _ => Err(refusal(status, &body)),
            };
            events.finished(result);
        })
    };
    let sent = (|| {
        request.open("POST", &url)?;
        request.set_request_header("Content-Type", &kind)?;
        request.set_request_header("Accept", "application/json")?;
        request
            .upload()?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        request.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        request.send_with_opt_blob(Some(file))
    })();
    LIVE.with_borrow_mut(|all| {
        all.push(Live {
            key,
            request,
            _progress: on_progress,
            _end: on_end,
        });
    });
    if sent.is_err() {
        take(key);
        events.finished(Err(NOT_STARTED.to_owned()));
    }
}

/// Breaks off upload `key`, if it is still on its way.
pub(crate) fn abort(key: u32) {
    if let Some(request) = take(key) {
        let _ = request.abort();
    }
}
