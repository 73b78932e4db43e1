//! `@` in a group's composer: the members whose name starts with what
//! follows it, in a list under the box. The box stays a textbox (a
//! textarea may take no other role) that names the list it controls and
//! the option picked (`aria-activedescendant`); arrows move, Enter or Tab
//! picks, Escape closes. Loaded with the conversation's page only.

// The server renders the (closed) list; the rest is the browser's.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code, unused_imports))]

use crate::model::mention_pick::{complete, offered, typing_mention};
use crate::store::ChatStore;
use leptos::ev::KeyboardEvent;
use leptos::html::Textarea;
use leptos::prelude::*;

/// The id of the list, for the box's `aria-controls`.
pub(crate) const LIST_ID: &str = "mention-list";

/// What is offered now: the names, which one is active, and where the
/// mention being typed starts.
#[derive(Clone, Debug, Default, PartialEq)]
struct Offer {
    names: Vec<String>,
    active: usize,
    at: usize,
}

/// The picker's state, shared by the composer's handlers and the list.
#[derive(Clone, Copy)]
pub(crate) struct MentionPicker {
    offer: RwSignal<Option<Offer>>,
    text: NodeRef<Textarea>,
    group: bool,
}

impl MentionPicker {
    pub(crate) fn new(text: NodeRef<Textarea>, group: bool) -> Self {
        Self {
            offer: RwSignal::new(None),
            text,
            group,
        }
    }

    /// The box changed: offer the names matching the mention being typed.
    #[cfg(feature = "hydrate")]
    pub(crate) fn typed(self, store: ChatStore) {
        if !self.group {
            return;
        }
        let Some(area) = self.text.get_untracked() else {
            return;
        };
        let value = area.value();
        let caret = caret(&area, &value);
        let found = typing_mention(&value[..caret]).map(|(at, query)| {
            let members: Vec<String> = store.with_untracked(|c| {
                let me = c.my_id();
                c.open
                    .iter()
                    .flat_map(|o| &o.participants)
                    .filter(|p| p.user_id != me)
                    .map(|p| p.username.clone())
                    .collect()
            });
            let names: Vec<String> = offered(&members, query)
                .into_iter()
                .map(str::to_owned)
                .collect();
            Offer {
                names,
                active: 0,
                at,
            }
        });
        self.offer
            .set(found.filter(|offer| !offer.names.is_empty()));
    }

    /// A key in the box: true when the picker took it (the composer then
    /// does nothing with it: Enter picks a name rather than sending).
    #[cfg(feature = "hydrate")]
    pub(crate) fn key(self, ev: &KeyboardEvent) -> bool {
        let Some(offer) = self.offer.get_untracked() else {
            return false;
        };
        let count = offer.names.len();
        match ev.key().as_str() {
            "ArrowDown" => self.offer.update(|o| {
                if let Some(o) = o {
                    o.active = (o.active + 1) % count;
                }
            }),
            "ArrowUp" => self.offer.update(|o| {
                if let Some(o) = o {
                    o.active = (o.active + count - 1) % count;
                }
            }),
            "Enter" | "Tab" if !ev.shift_key() => self.pick(offer.active),
            "Escape" => self.offer.set(None),
            _ => return false,
        }
        ev.prevent_default();
        true
    }

    #[cfg(feature = "hydrate")]
    fn pick(self, index: usize) {
        let Some(offer) = self.offer.get_untracked() else {
            return;
        };
        self.offer.set(None);
        let (Some(name), Some(area)) = (offer.names.get(index), self.text.get_untracked()) else {
            return;
        };
        let value = area.value();
        let caret = caret(&area, &value);
        let (text, after) = complete(&value, offer.at, caret, name);
        area.set_value(&text);
        let at = text[..after].encode_utf16().count() as u32;
        let _ = area.set_selection_range(at, at);
        let _ = area.focus();
    }

    /// The option the box points at, for `aria-activedescendant`.
    pub(crate) fn active_id(self) -> Option<String> {
        self.offer
            .with(|o| o.as_ref().map(|o| format!("mention-{}", o.active)))
    }

    pub(crate) fn open(self) -> bool {
        self.offer.with(Option::is_some)
    }
}

/// Where the caret is in `value`, in bytes (the browser counts UTF-16
/// units).
#[cfg(feature = "hydrate")]
fn caret(area: &web_sys::HtmlTextAreaElement, value: &str) -> usize {
    let units = area
        .selection_start()
        .ok()
        .flatten()
        .map_or(usize::MAX, |u| u as usize);
    let mut seen = 0;
    for (at, c) in value.char_indices() {
        if seen >= units {
            return at;
        }
        seen += c.len_utf16();
    }
    value.len()
}

/// The list of names under the box, while there is one.
#[component]
pub(crate) fn MentionList(picker: MentionPicker) -> impl IntoView {
    move || {
        picker.offer.get().map(|offer| {
            let options = offer
                .names
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let selected = index == offer.active;
                    view! {
                        <li id=format!("mention-{index}") role="option" class="mention-option"
                            aria-selected=selected.to_string()
                            // Before the box loses focus to the click.
                            on:mousedown=move |ev| {
                                ev.prevent_default();
                                #[cfg(feature = "hydrate")]
                                picker.pick(index);
                            }>
                            "@"{name.clone()}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul id=LIST_ID role="listbox" class="mention-list" aria-label="People in this group"
                    data-testid="mention-list">
                    {options}
                </ul>
            }
        })
    }
}
