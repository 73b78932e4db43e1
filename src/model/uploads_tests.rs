use super::*;
use crate::protocol::AttachmentId;

fn conv() -> ConversationId {
    ConversationId::parse("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718").unwrap()
}

fn message(text: &str) -> MessageId {
    MessageId::parse(text).unwrap()
}

fn file(n: u8) -> Attachment {
    Attachment {
        attachment_id: AttachmentId::parse(&format!("att_0190a6f8c2b47cc1a1b2c3d4e5f607{n:02}"))
            .unwrap(),
        name: format!("f{n}.pdf"),
        size: 100,
        content_type: "application/pdf".into(),
        width: None,
        height: None,
    }
}

fn names(uploads: &Uploads) -> Vec<&str> {
    uploads.of(conv()).map(|u| u.name.as_str()).collect()
}

#[test]
fn progress_is_told_by_the_whole_percent_and_a_done_upload_goes_with_the_next_message() {
    let mut uploads = Uploads::default();
    let (a, go) = uploads.add(conv(), "a.pdf".into(), 1_000);
    assert!(go);
    assert!(!uploads.progress(a, 5), "not a whole percent yet");
    assert!(uploads.progress(a, 500));
    assert_eq!(uploads.of(conv()).next().unwrap().percent(), 50);
    assert!(uploads.finished(a, Ok(file(1))));
    assert!(!uploads.progress(a, 900), "over: no more progress");
    assert_eq!(
        uploads.write(conv(), &message("m1")),
        Outcome::Now(vec![file(1)])
    );
    assert!(names(&uploads).is_empty(), "the chip went with the message");
    assert_eq!(
        uploads.write(conv(), &message("m2")),
        Outcome::Now(Vec::new()),
        "nothing left for the next one"
    );
}

#[test]
fn a_message_written_while_files_upload_waits_for_all_of_them() {
    let mut uploads = Uploads::default();
    let (a, _) = uploads.add(conv(), "a.pdf".into(), 10);
    let (b, _) = uploads.add(conv(), "b.pdf".into(), 10);
    uploads.finished(a, Ok(file(1)));
    assert_eq!(uploads.write(conv(), &message("m1")), Outcome::Wait);
    // Picked after: for the next message, not m1.
    let (c, _) = uploads.add(conv(), "c.pdf".into(), 10);
    assert!(uploads.take_ready().is_empty(), "b is still on its way");
    uploads.finished(b, Ok(file(2)));
    assert_eq!(
        uploads.take_ready(),
        vec![(message("m1"), vec![file(1), file(2)])]
    );
    assert!(uploads.take_ready().is_empty(), "once");
    assert_eq!(names(&uploads), ["c.pdf"]);
    assert!(uploads.remove(c).is_some_and(|u| u.is_sending()));
}

#[test]
fn a_file_taken_back_or_failed_is_left_out_and_its_chip_says_why() {
    let mut uploads = Uploads::default();
    let (a, _) = uploads.add(conv(), "a.pdf".into(), 10);
    let (b, _) = uploads.add(conv(), "b.pdf".into(), 10);
    let (c, _) = uploads.add(conv(), "c.pdf".into(), 10);
    assert_eq!(uploads.write(conv(), &message("m1")), Outcome::Wait);
    uploads.finished(a, Ok(file(1)));
    uploads.finished(b, Err("a file is at most 25000000 bytes".into()));
    // Cancelled: the message no longer waits for it.
    assert!(uploads.remove(c).is_some());
    assert_eq!(uploads.take_ready(), vec![(message("m1"), vec![file(1)])]);
    let left: Vec<_> = uploads.of(conv()).map(|u| u.state.clone()).collect();
    assert_eq!(
        left,
        [UploadState::Failed(
            "a file is at most 25000000 bytes".into()
        )]
    );
    assert_eq!(
        uploads.write(conv(), &message("m2")),
        Outcome::Now(Vec::new()),
        "a failed file is never sent"
    );
    assert!(uploads.remove(b).is_some());
    assert!(names(&uploads).is_empty());
}

#[test]
fn a_message_takes_at_most_its_share_of_files_and_each_conversation_its_own() {
    let mut uploads = Uploads::default();
    for n in 0..MAX_ATTACHMENTS {
        assert!(uploads.add(conv(), format!("{n}"), 1).1);
    }
    let (over, go) = uploads.add(conv(), "one too many".into(), 1);
    assert!(!go);
    let chip = uploads.iter().find(|u| u.key == over).unwrap();
    assert!(matches!(&chip.state, UploadState::Failed(why) if why.contains("at most")));
    let elsewhere = ConversationId::new_v7();
    assert!(uploads.add(elsewhere, "x".into(), 1).1);
    assert_eq!(uploads.write(elsewhere, &message("m1")), Outcome::Wait);
    assert_eq!(uploads.of(elsewhere).count(), 1);
    assert_eq!(uploads.of(conv()).count(), MAX_ATTACHMENTS + 1);
}
