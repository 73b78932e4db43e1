//! Messages with files: sent with them, or held until they are uploaded.

use super::*;
use crate::protocol::{Attachment, AttachmentId, attachment_preview};

fn photo() -> Attachment {
    Attachment {
        attachment_id: AttachmentId::parse("att_0190a6f8c2b47cc1a1b2c3d4e5f60718").unwrap(),
        name: "cat.png".into(),
        size: 2_000,
        content_type: "image/png".into(),
        width: Some(640),
        height: Some(480),
    }
}

fn kept(effects: &[Effect]) -> Vec<&MessagePayload> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Keep(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn a_message_of_files_alone_goes_with_no_text_and_the_inbox_says_photo() {
    let (mut chat, c, _) = alice_with_bob();
    let effects = chat.write_with_files(c, Content::none(), vec![photo()], id("m1"), 5);
    assert_eq!(sends(&effects), ["send m1"]);
    let sent = kept(&effects);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].attachments, [photo()]);
    assert!(sent[0].content.is_empty());
    let shown = &chat.timeline.as_ref().unwrap().messages()[0];
    assert_eq!(shown.attachments, [photo()]);
    assert!(shown.has_no_text());
    let row = &chat.inbox.entries()[0];
    assert_eq!(
        attachment_preview(row.last_attachment.as_slice()).as_deref(),
        Some("📷 Photo")
    );
    // Neither text nor files: nothing at all.
    assert!(
        chat.write_with_files(c, Content::none(), Vec::new(), id("m2"), 6)
            .is_empty()
    );
    assert_eq!(chat.unsent(), 1);
}

#[test]
fn a_message_waits_for_its_uploads_shown_but_not_kept_then_goes_with_them() {
    let (mut chat, c, _) = alice_with_bob();
    let effects = chat.hold(c, text("look"), id("m1"), 5);
    assert!(
        kept(&effects).is_empty(),
        "not kept: its files are not there"
    );
    assert!(sends(&effects).is_empty());
    assert_eq!(shown(&chat), [("m1".into(), Status::Uploading)]);
    assert_eq!(chat.unsent(), 1);
    assert!(chat.outbox.is_empty());

    // The page goes to another conversation and comes back: still there.
    chat.close_conversation(c, chat.opened());
    let me = chat.me().clone();
    let bob = user("bob");
    chat.open_conversation(conversation(c, &[&me, &bob]), page(c, &[]));
    assert_eq!(shown(&chat), [("m1".into(), Status::Uploading)]);

    let effects = chat.uploads_done(&id("m1"), vec![photo()], 9);
    assert_eq!(sends(&effects), ["send m1"]);
    assert_eq!(kept(&effects)[0].attachments, [photo()]);
    assert_eq!(shown(&chat), [("m1".into(), Status::Pending)]);
    assert_eq!(
        chat.timeline.as_ref().unwrap().messages()[0].attachments,
        [photo()]
    );
    assert!(chat.held.is_empty());
    assert!(
        chat.uploads_done(&id("m1"), Vec::new(), 10).is_empty(),
        "once"
    );
}

#[test]
fn a_held_message_whose_files_all_failed_and_has_no_text_is_dropped() {
    let (mut chat, c, _) = alice_with_bob();
    chat.hold(c, Content::none(), id("m1"), 5);
    assert!(chat.uploads_done(&id("m1"), Vec::new(), 9).is_empty());
    assert!(shown(&chat).is_empty());
    assert_eq!(chat.unsent(), 0);
}

#[test]
fn a_reply_with_files_keeps_its_quote_and_a_deleted_file_message_clears_the_preview() {
    let (mut chat, c, bob) = alice_with_bob();
    chat.apply(receive(c, "m0", bob), true, 1, 0.5);
    chat.start_reply(&id("m0"));
    chat.hold(c, Content::none(), id("m1"), 5);
    let effects = chat.uploads_done(&id("m1"), vec![photo()], 9);
    assert_eq!(kept(&effects)[0].reply_to, Some(id("m0")));
    // A message of files alone has no text to edit.
    chat.apply(
        ServerEvent::Ack(AckPayload {
            conversation_id: c,
            message_id: id("m1"),
            timestamp: 9,
            change: None,
        }),
        true,
        10,
        0.5,
    );
    assert_eq!(chat.start_edit(&id("m1")), None);
    chat.inbox.changed(c, &id("m1"), None);
    assert_eq!(chat.inbox.entries()[0].last_attachment, None);
}
