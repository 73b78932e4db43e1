//! A message's files: pictures inline as thumbnails (their box sized from
//! the picture's own width and height before it loads, so nothing moves),
//! each a link to the whole picture, which opens in a viewer over the page
//! when JavaScript runs; other files as a card (icon, name, size) that
//! downloads the file.

use crate::protocol::{Attachment, human_size};
use leptos::ev::MouseEvent;
use leptos::html::Dialog;
use leptos::prelude::*;

/// The widest and tallest a thumbnail is shown (CSS pixels).
const THUMB_BOX: u32 = 320;
/// The narrowest side a very long picture keeps (it is cropped to fit).
const THUMB_MIN: u32 = 48;

/// The size a picture of `width` × `height` is shown at: as large as fits
/// in [`THUMB_BOX`] × [`THUMB_BOX`], never larger than itself.
pub(crate) fn shown_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (u64::from(width.max(1)), u64::from(height.max(1)));
    let limit = u64::from(THUMB_BOX);
    let (w, h) = if w >= h {
        let shown = w.min(limit);
        (shown, h * shown / w)
    } else {
        let shown = h.min(limit);
        (w * shown / h, shown)
    };
    // A sliver keeps a side people can see (cropped to it), but no more
    // than it has.
    let floor = |side: u64, own: u32| (side as u32).max(THUMB_MIN.min(own.max(1)));
    (floor(w, width), floor(h, height))
}

/// The picture open in the viewer, if any (one viewer per conversation).
#[derive(Clone, Copy)]
pub(crate) struct Viewer(pub(crate) RwSignal<Option<Attachment>>);

/// The files of one message, in the order sent.
pub(crate) fn attachments(files: Vec<Attachment>) -> impl IntoView {
    let viewer = use_context::<Viewer>();
    let (images, others): (Vec<Attachment>, Vec<Attachment>) =
        files.into_iter().partition(Attachment::is_image);
    let images = (!images.is_empty()).then(|| {
        let many = images.len() > 1;
        let shown = images
            .into_iter()
            .map(|file| thumbnail(file, viewer))
            .collect_view();
        view! { <div class="attachment-images" class:many=many>{shown}</div> }
    });
    let others = (!others.is_empty()).then(|| others.into_iter().map(card).collect_view());
    view! { {images}{others} }
}

fn thumbnail(file: Attachment, viewer: Option<Viewer>) -> impl IntoView {
    let (width, height) = shown_size(file.width.unwrap_or(1), file.height.unwrap_or(1));
    let (url, thumb, name) = (file.url(), file.thumb_url(), file.name.clone());
    let title = name.clone();
    let open = move |ev: MouseEvent| {
        // A plain click opens the viewer; a click meant for a new tab
        // goes there.
        if let Some(Viewer(shown)) = viewer
            && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key())
        {
            ev.prevent_default();
            shown.set(Some(file.clone()));
        }
    };
    view! {
        <a class="attachment-image" href=url target="_blank" rel="noopener" on:click=open
            data-testid="attachment-image" title=title>
            <img src=thumb alt=name width=width height=height loading="lazy" decoding="async"/>
        </a>
    }
}

/// A file that is not a picture: its name and size, a link that
/// downloads it (the icon is the stylesheet's).
fn card(file: Attachment) -> impl IntoView {
    view! {
        <a class="attachment-file" href=file.url() download=file.name.clone() data-testid="attachment-file">
            <span class="file-name">{file.name.clone()}</span>
            <span class="file-size">{human_size(file.size)}</span>
        </a>
    }
}

/// The whole picture over the page, with its name and a way to download
/// it; Escape, a click beside it, or ✕ closes it.
#[component]
pub(crate) fn ImageViewer(viewer: Viewer) -> impl IntoView {
    let Viewer(shown) = viewer;
    let dialog = NodeRef::<Dialog>::new();
    Effect::new(move |_| {
        let open = shown.with(Option::is_some);
        if let Some(dialog) = dialog.get() {
            if open && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
    let beside = move |ev: MouseEvent| {
        // The dialog fills the screen: a click on it, not on what it
        // shows, is a click beside the picture.
        if ev.target() == ev.current_target() {
            shown.set(None);
        }
    };
    let content = move || {
        shown.get().map(|file| {
            let (url, name) = (file.url(), file.name.clone());
            view! {
                <figure class="viewer-figure">
                    <img src=url.clone() alt=name.clone() data-testid="viewer-image"/>
                    <figcaption>
                        <span class="viewer-name">{name.clone()}</span>
                        <a class="button subtle viewer-download" href=url download=name>"Download"</a>
                        <button type="button" class="viewer-close" aria-label="Close" title="Close" autofocus
                            on:click=move |_| shown.set(None)>"✕"</button>
                    </figcaption>
                </figure>
            }
        })
    };
    view! {
        <dialog class="viewer" node_ref=dialog aria-label="Picture" data-testid="viewer"
            on:close=move |_| shown.set(None) on:click=beside>
            {content}
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::shown_size;

    #[test]
    fn a_thumbnail_keeps_its_shape_within_the_box() {
        assert_eq!(shown_size(4032, 3024), (320, 240));
        assert_eq!(shown_size(3024, 4032), (240, 320));
        assert_eq!(shown_size(100, 50), (100, 50), "never larger than itself");
        assert_eq!(shown_size(8000, 100), (320, 48), "a sliver stays visible");
        assert_eq!(shown_size(8000, 10), (320, 10), "but no taller than it is");
        assert_eq!(shown_size(1, 1), (1, 1));
    }
}
