//! What a screen reader says as messages arrive: a visually hidden, polite
//! live region that gets one line, "<sender>: <text>", for each message
//! someone else sends to the open conversation while the page is open. The
//! list of messages is not itself a live region: each change to it (a page
//! of older messages, a tick, a reaction) would be read out again. History
//! loaded is not news, and neither are my own messages.

use crate::protocol::{MessageId, ServerEvent};
use crate::store::ChatStore;
use leptos::prelude::*;

/// Lines kept in the region: only what was added is read out, so the older
/// ones only need to stay long enough not to be cut off mid-sentence.
#[cfg(feature = "hydrate")]
const KEPT: usize = 5;

/// Reads a frame: the message and the line to say, if it is news.
type Reader = fn(ChatStore, &ServerEvent) -> Option<(MessageId, String)>;

/// The lines said so far, numbered (their keys), with the message each
/// tells of, and how frames are read,
/// once a conversation's region is on the page: the socket hands every
/// frame over, and the reading is part of the conversation's part of the
/// bundle, not the inbox's.
#[derive(Clone, Copy)]
pub(crate) struct Announcements {
    lines: RwSignal<Vec<(u32, MessageId, String)>>,
    reader: StoredValue<Option<Reader>>,
}

impl Announcements {
    /// Made once for the signed-in pages, for the socket and the region.
    pub(crate) fn provide() -> Self {
        let announcements = Self {
            lines: RwSignal::new(Vec::new()),
            reader: StoredValue::new(None),
        };
        provide_context(announcements);
        announcements
    }

    /// A frame from the server, before the chat takes it.
    #[cfg(feature = "hydrate")]
    pub(crate) fn heard(self, store: ChatStore, event: &ServerEvent) {
        let Some(read) = self.reader.get_value() else {
            return;
        };
        if let Some((id, line)) = read(store, event) {
            self.lines.update(|lines| {
                let number = lines.last().map_or(0, |(n, _, _)| n + 1);
                lines.push((number, id, line));
                let extra = lines.len().saturating_sub(KEPT);
                lines.drain(..extra);
            });
        }
    }
}

/// A message from someone else, to the conversation open, not shown yet.
fn news(store: ChatStore, event: &ServerEvent) -> Option<(MessageId, String)> {
    let ServerEvent::Receive(message) = event else {
        return None;
    };
    store.with_untracked(|chat| {
        let new_here = chat.timeline.as_ref().is_some_and(|t| {
            t.conversation_id == message.conversation_id
                && t.position(&message.message_id).is_none()
        });
        if !new_here || message.sender_id == chat.my_id() {
            return None;
        }
        let text = if message.content.is_empty() {
            crate::protocol::attachment_preview(&message.attachments)?
        } else {
            message.content.as_str().to_owned()
        };
        let line = format!("{}: {text}", chat.name_of(message.sender_id));
        Some((message.message_id.clone(), line))
    })
}

/// The region itself, beside the conversation's messages. Empty as the
/// server renders it (nothing has arrived yet). A line goes when its
/// message is deleted or no longer shown (another conversation opened):
/// what was deleted does not linger in the page, even out of sight.
/// Taking lines away is not read out, nor are the lines that stay.
#[component]
pub(crate) fn Announcer() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let announcements = use_context::<Announcements>();
    if let Some(a) = announcements {
        a.reader.set_value(Some(news));
    }
    let lines = move || {
        let Some(a) = announcements else {
            return Vec::new();
        };
        let mut lines = a.lines.get();
        store.with(|chat| {
            lines.retain(|(_, id, _)| {
                chat.timeline
                    .as_ref()
                    .and_then(|t| t.get(id))
                    .is_some_and(|m| m.content.is_some())
            });
        });
        lines
    };
    view! {
        <div class="visually-hidden" aria-live="polite" data-testid="announcer">
            <For each=lines key=|(n, _, _)| *n let:line>
                <p>{line.2}</p>
            </For>
        </div>
    }
}
