use super::*;
use crate::protocol::{
    Content, Conversation, HistoryMessage, HistoryPage, Inbox, InboxEntry, MarkerPayload,
    MutePayload, ReadPayload, ServerEvent, UserSummary,
};

fn user(name: &str) -> UserSummary {
    UserSummary {
        user_id: UserId::new_v7(),
        username: name.into(),
    }
}

fn id(t: &str) -> MessageId {
    MessageId::parse(t).unwrap()
}

fn stored(message_id: &str, sender: UserId) -> HistoryMessage {
    HistoryMessage {
        message_id: id(message_id),
        sender_id: sender,
        content: Content::parse(message_id).ok(),
        timestamp: 1,
        change: 0,
        edited_at: None,
        deleted: false,
        reply: None,
        reactions: Vec::new(),
        attachments: Vec::new(),
    }
}

/// A page, newest first as the server answers; `older`: more before it.
fn page(c: ConversationId, oldest_first: &[HistoryMessage], older: bool) -> HistoryPage {
    HistoryPage {
        conversation_id: c,
        messages: oldest_first.iter().rev().cloned().collect(),
        next_cursor: older.then(|| id("older")),
        last_change: 0,
    }
}

fn marker(user: UserId, read: Option<&str>) -> MemberMarkers {
    MemberMarkers {
        user_id: user,
        delivered: read.map(id),
        read: read.map(id),
    }
}

fn row(c: ConversationId, kind: ConversationKind, unread: i64, muted: bool) -> InboxEntry {
    InboxEntry {
        conversation_id: c,
        participant: None,
        last_message: None,
        timestamp: 0,
        kind,
        title: (kind == ConversationKind::Group).then(|| "Trip".to_owned()),
        participants: Vec::new(),
        member_count: 3,
        participant_name: None,
        last_sender_id: None,
        last_sender_name: None,
        last_message_id: Some(id(&format!("last{unread}"))),
        unread_count: unread,
        last_attachment: None,
        muted,
    }
}

/// A direct chat as opened, `me`'s read marker at `read`.
fn direct(c: ConversationId, me: &UserSummary, other: &UserSummary, read: &str) -> Conversation {
    Conversation {
        conversation_id: c,
        kind: ConversationKind::Direct,
        title: None,
        participants: vec![me.clone(), other.clone()],
        former_participants: Vec::new(),
        markers: vec![marker(me.user_id, Some(read))],
        muted: false,
    }
}

fn chat_with(me: &UserSummary, rows: Vec<InboxEntry>) -> Chat {
    let mut chat = Chat::new(
        me.clone(),
        Inbox {
            chats: rows,
            next_cursor: None,
        },
    );
    chat.on_connected(0, true);
    chat
}

/// A message as the server sends it (with the names it mentions).
fn message(c: ConversationId, from: UserId, message_id: &str, text: &str) -> MessagePayload {
    MessagePayload {
        conversation_id: c,
        sender_id: from,
        message_id: id(message_id),
        content: Content::parse(text).unwrap(),
        timestamp: 1,
        reply_to: None,
        reply: None,
        change: None,
        attachments: Vec::new(),
        mentions: crate::model::markup::mentioned(text),
    }
}

#[test]
fn the_line_goes_above_the_first_message_after_my_read_marker() {
    let (me, bob) = (UserId::new_v7(), UserId::new_v7());
    let c = ConversationId::new_v7();
    let t = Timeline::from_page(page(
        c,
        &[
            stored("m1", bob),
            stored("m2", me),
            stored("m3", bob),
            stored("m4", bob),
        ],
        false,
    ));
    let markers = [marker(me, Some("m2")), marker(bob, Some("m4"))];
    assert_eq!(first_unread(&markers, me, &t), Some(id("m3")));
    let all_read = [marker(me, Some("m4"))];
    assert_eq!(first_unread(&all_read, me, &t), None, "nothing unread");
    let never = [marker(me, None)];
    assert_eq!(
        first_unread(&never, me, &t),
        Some(id("m1")),
        "never read: from the start"
    );
    assert_eq!(first_unread(&[], me, &t), None, "no markers: no line");
}

#[test]
fn a_marker_older_than_the_page_puts_the_line_at_its_top() {
    let (me, bob) = (UserId::new_v7(), UserId::new_v7());
    let c = ConversationId::new_v7();
    let t = Timeline::from_page(page(c, &[stored("m7", bob), stored("m8", bob)], true));
    assert_eq!(
        first_unread(&[marker(me, Some("m1"))], me, &t),
        Some(id("m7"))
    );
}

#[test]
fn the_line_stays_while_open_and_goes_on_the_next_open() {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = chat_with(&alice, vec![row(c, ConversationKind::Direct, 1, false)]);
    let conversation = direct(c, &alice, &bob, "m1");
    let first = page(
        c,
        &[stored("m1", bob.user_id), stored("m2", bob.user_id)],
        false,
    );
    chat.open_conversation(conversation.clone(), first.clone());
    assert_eq!(chat.unread_from, Some(id("m2")));
    let event = ServerEvent::Receive(message(c, bob.user_id, "m3", "more"));
    chat.apply(event, true, 5, 0.5);
    assert_eq!(chat.unread_from, Some(id("m2")), "stays while open");
    let opened = chat.opened();
    chat.close_conversation(c, opened);
    assert_eq!(chat.unread_from, None);
    // Opened again: the marker the page comes with is at the newest.
    let read = Conversation {
        markers: vec![marker(alice.user_id, Some("m2"))],
        ..conversation
    };
    chat.open_conversation(read, first);
    assert_eq!(chat.unread_from, None, "gone on the next open");
}

#[test]
fn the_title_counts_what_is_unread_outside_muted_conversations() {
    let (a, b, c) = (
        ConversationId::new_v7(),
        ConversationId::new_v7(),
        ConversationId::new_v7(),
    );
    let me = user("alice");
    let mut chat = chat_with(
        &me,
        vec![
            row(a, ConversationKind::Direct, 2, false),
            row(b, ConversationKind::Group, 5, true),
            row(c, ConversationKind::Group, 1, false),
        ],
    );
    assert_eq!(title_count(&chat.inbox), 3);
    assert_eq!(titled(3, "Chats · natter"), "(3) Chats · natter");
    assert_eq!(titled(0, "natter"), "natter");
    chat.apply(
        ServerEvent::Muted(MutePayload {
            conversation_id: b,
            muted: false,
        }),
        true,
        0,
        0.5,
    );
    assert_eq!(title_count(&chat.inbox), 8, "unmuted in another tab");
}

#[test]
fn mark_all_read_sends_one_marker_per_unread_row_and_clears_the_badges() {
    let (a, b) = (ConversationId::new_v7(), ConversationId::new_v7());
    let me = user("alice");
    let mut chat = chat_with(
        &me,
        vec![
            row(a, ConversationKind::Direct, 2, false),
            row(b, ConversationKind::Group, 0, false),
        ],
    );
    let effects = chat.mark_all_read();
    let reads: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(ClientEvent::Read(r)) => Some((r.conversation_id, r.message_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(reads, vec![(a, id("last2"))]);
    assert_eq!(title_count(&chat.inbox), 0);
    assert!(chat.mark_all_read().is_empty(), "nothing left to read");
}

fn notices(effects: &[Effect]) -> Vec<Notice> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_message_notifies_unless_shown_muted_mine_or_repeated() {
    let (alice, bob) = (user("alice"), user("bob"));
    let (direct, group) = (ConversationId::new_v7(), ConversationId::new_v7());
    let mut dm = row(direct, ConversationKind::Direct, 0, false);
    dm.participants = vec![bob.clone()];
    let mut trip = row(group, ConversationKind::Group, 0, true);
    trip.participants = vec![bob.clone()];
    let mut chat = chat_with(&alice, vec![dm, trip]);
    let from_bob = |c, m: &str, text: &str| ServerEvent::Receive(message(c, bob.user_id, m, text));

    let hidden = chat.apply(from_bob(direct, "d1", "hello there"), false, 0, 0.5);
    assert_eq!(
        notices(&hidden),
        vec![Notice {
            conversation: direct,
            title: "bob".into(),
            body: "hello there".into(),
        }]
    );
    let again = chat.apply(from_bob(direct, "d1", "hello there"), false, 0, 0.5);
    assert!(notices(&again).is_empty(), "a repeat");
    let visible = chat.apply(from_bob(direct, "d2", "seen?"), true, 0, 0.5);
    assert_eq!(
        notices(&visible).len(),
        1,
        "visible, but another conversation is open (none here)"
    );
    let mine = ServerEvent::Receive(message(direct, alice.user_id, "d3", "me"));
    assert!(notices(&chat.apply(mine, false, 0, 0.5)).is_empty());

    let muted = chat.apply(from_bob(group, "g1", "plain"), false, 0, 0.5);
    assert!(notices(&muted).is_empty(), "muted");
    let mention = chat.apply(from_bob(group, "g2", "@alice look"), false, 0, 0.5);
    assert_eq!(
        notices(&mention)
            .iter()
            .map(|n| n.title.as_str())
            .collect::<Vec<_>>(),
        vec!["bob in Trip"],
        "a mention notifies even muted"
    );
}

#[test]
fn the_open_conversation_in_a_visible_tab_does_not_notify() {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = chat_with(&alice, vec![row(c, ConversationKind::Direct, 0, false)]);
    let conversation = Conversation {
        conversation_id: c,
        kind: ConversationKind::Direct,
        title: None,
        participants: vec![alice.clone(), bob.clone()],
        former_participants: Vec::new(),
        markers: Vec::new(),
        muted: false,
    };
    chat.open_conversation(conversation, page(c, &[], false));
    let shown = chat.apply(
        ServerEvent::Receive(message(c, bob.user_id, "m1", "hi")),
        true,
        0,
        0.5,
    );
    assert!(notices(&shown).is_empty());
    let hidden = chat.apply(
        ServerEvent::Receive(message(c, bob.user_id, "m2", "hi")),
        false,
        0,
        0.5,
    );
    assert_eq!(notices(&hidden)[0].title, "bob", "the tab is hidden");
}

#[test]
fn opened_where_i_left_off_the_badge_keeps_what_is_below_as_the_server_counts_it() {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = chat_with(&alice, vec![row(c, ConversationKind::Direct, 90, false)]);
    let conversation = direct(c, &alice, &bob, "m1");
    let window = page(
        c,
        &[
            stored("m1", alice.user_id),
            stored("m2", bob.user_id),
            stored("m3", bob.user_id),
        ],
        true,
    );
    let effects =
        chat.open_conversation_at(conversation.clone(), window.clone(), Some(id("m3")), false);
    // What it shows is read (the server is told), the rest is not.
    let read = ClientEvent::Read(ReadPayload {
        conversation_id: c,
        message_id: id("m3"),
    });
    assert!(effects.contains(&Effect::Send(read)));
    assert_eq!(chat.unread_from, Some(id("m2")));
    assert_eq!(chat.inbox.get(c).unwrap().unread_count, 90, "not cleared");
    let counted = |left| {
        ServerEvent::Read(MarkerPayload {
            conversation_id: c,
            user_id: alice.user_id,
            message_id: id("m3"),
            unread_count: Some(left),
        })
    };
    chat.apply(counted(88), true, 5, 0.5);
    assert_eq!(
        chat.inbox.get(c).unwrap().unread_count,
        88,
        "as the server counts"
    );
    // Open at the newest, a count (a message raced the marker) is read at once.
    let opened = chat.opened();
    chat.close_conversation(c, opened);
    chat.open_conversation_at(conversation, window, None, false);
    assert_eq!(chat.inbox.get(c).unwrap().unread_count, 0);
    chat.apply(counted(1), true, 6, 0.5);
    assert_eq!(chat.inbox.get(c).unwrap().unread_count, 0);
}

#[test]
fn a_message_heard_while_the_inbox_is_fetched_again_keeps_its_badge_over_an_older_page() {
    let (me, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = chat_with(&me, vec![row(c, ConversationKind::Direct, 0, false)]);
    // Connecting asks for the first page again; a message comes before it,
    // and the page was read before that message was stored.
    assert_eq!(chat.refresh_inbox(), Effect::FetchInbox(None));
    chat.apply(
        ServerEvent::Receive(message(c, bob.user_id, "m1", "one")),
        true,
        1,
        0.5,
    );
    assert_eq!(title_count(&chat.inbox), 1);
    let older = Inbox {
        chats: vec![row(c, ConversationKind::Direct, 0, false)],
        next_cursor: None,
    };
    chat.inbox_arrived(false, Some(older), 2);
    let row_now = chat.inbox.get(c).unwrap();
    assert_eq!(row_now.unread_count, 1, "not lost under the older page");
    assert_eq!(row_now.last_message_id, Some(id("m1")));
    assert_eq!(title_count(&chat.inbox), 1);
}

#[test]
fn a_message_the_fetched_page_already_has_is_not_counted_twice() {
    let (me, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = chat_with(&me, vec![row(c, ConversationKind::Direct, 0, false)]);
    chat.refresh_inbox();
    for (m, text) in [("m1", "one"), ("m2", "two"), ("m3", "three")] {
        chat.apply(
            ServerEvent::Receive(message(c, bob.user_id, m, text)),
            true,
            1,
            0.5,
        );
    }
    // The page was read after m2 was stored, before m3.
    let mut newer = row(c, ConversationKind::Direct, 2, false);
    newer.last_message_id = Some(id("m2"));
    let page = Inbox {
        chats: vec![newer],
        next_cursor: None,
    };
    chat.inbox_arrived(false, Some(page), 2);
    let row_now = chat.inbox.get(c).unwrap();
    assert_eq!(
        row_now.unread_count, 3,
        "m1 and m2 from the page, m3 on top"
    );
    assert_eq!(row_now.last_message_id, Some(id("m3")));
    // Heard once: a later page is taken as it comes.
    let mut later = row(c, ConversationKind::Direct, 0, false);
    later.last_message_id = Some(id("m3"));
    let page = Inbox {
        chats: vec![later],
        next_cursor: None,
    };
    chat.inbox_arrived(false, Some(page), 3);
    assert_eq!(chat.inbox.get(c).unwrap().unread_count, 0, "read elsewhere");
}
