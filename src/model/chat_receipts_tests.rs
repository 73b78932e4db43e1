//! What the others' devices say: how far they received and read (the
//! ticks under my messages), and whether they are online.

use super::*;
use crate::model::receipts::Receipt;
use crate::protocol::{MemberMarkers, PresencePayload};

fn marker(read: bool, conversation: ConversationId, user: UserId, message: &str) -> ServerEvent {
    let payload = MarkerPayload {
        conversation_id: conversation,
        user_id: user,
        message_id: id(message),
        unread_count: None,
    };
    if read {
        ServerEvent::Read(payload)
    } else {
        ServerEvent::Delivered(payload)
    }
}

fn ticks(chat: &Chat) -> Vec<Receipt> {
    chat.receipts.of(chat.timeline.as_ref().unwrap())
}

#[test]
fn my_message_goes_from_one_tick_to_delivered_to_seen_as_the_other_side_says() {
    let (mut chat, c, bob) = alice_with_bob();
    chat.write(c, text("hi"), id("m1"), 1);
    chat.apply(
        ServerEvent::Ack(AckPayload {
            conversation_id: c,
            message_id: id("m1"),
            timestamp: 1,
            change: None,
        }),
        true,
        2,
        0.5,
    );
    assert_eq!(ticks(&chat), [Receipt::Sent]);
    chat.apply(marker(false, c, bob, "m1"), true, 3, 0.5);
    assert_eq!(ticks(&chat), [Receipt::Delivered]);
    chat.apply(marker(true, c, bob, "m1"), true, 4, 0.5);
    assert_eq!(ticks(&chat), [Receipt::Seen]);
    // A delivered marker that comes late never takes a tick back.
    chat.apply(marker(false, c, bob, "m1"), true, 5, 0.5);
    assert_eq!(ticks(&chat), [Receipt::Seen]);
    // My next message starts again from one tick; a marker for a message
    // this page does not show yet is at least as far as what it shows.
    chat.write(c, text("again"), id("m2"), 6);
    chat.apply(
        ServerEvent::Ack(AckPayload {
            conversation_id: c,
            message_id: id("m2"),
            timestamp: 6,
            change: None,
        }),
        true,
        7,
        0.5,
    );
    assert_eq!(ticks(&chat), [Receipt::Seen, Receipt::Sent]);
    chat.apply(marker(false, c, bob, "m9"), true, 8, 0.5);
    assert_eq!(ticks(&chat), [Receipt::Seen, Receipt::Delivered]);
}

#[test]
fn the_page_comes_with_the_ticks_and_a_group_counts_who_has_seen() {
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    let g = ConversationId::new_v7();
    let mut chat = Chat::new(alice.clone(), inbox(vec![entry(g)]));
    let mut group = conversation(g, &[&alice, &bob, &carol]);
    group.kind = ConversationKind::Group;
    group.markers = vec![
        MemberMarkers {
            user_id: bob.user_id,
            delivered: Some(id("m3")),
            read: Some(id("m2")),
        },
        MemberMarkers {
            user_id: carol.user_id,
            delivered: Some(id("m2")),
            read: Some(id("m1")),
        },
        // Mine do not count.
        MemberMarkers {
            user_id: alice.user_id,
            delivered: None,
            read: None,
        },
    ];
    let mine = |m| stored(m, alice.user_id);
    chat.open_conversation(
        group,
        page(g, &[mine("m0"), mine("m1"), mine("m2"), mine("m3")]),
    );
    // m0 is older than any marker's message... but both read past it.
    assert_eq!(
        ticks(&chat),
        [
            Receipt::Seen,
            Receipt::Seen,
            Receipt::Delivered,
            Receipt::Sent
        ]
    );
    let t = chat.timeline.as_ref().unwrap();
    assert!(chat.receipts.has_seen(bob.user_id, t, 2));
    assert!(!chat.receipts.has_seen(carol.user_id, t, 2));
    assert!(
        !chat.receipts.has_seen(alice.user_id, t, 0),
        "mine do not count"
    );
    // Carol leaves: only Bob counts, and he has everything.
    chat.apply(
        ServerEvent::Left(MemberPayload {
            conversation_id: g,
            user_id: carol.user_id,
        }),
        true,
        1,
        0.5,
    );
    assert_eq!(ticks(&chat)[2], Receipt::Seen);
    assert_eq!(ticks(&chat)[3], Receipt::Delivered);
}

#[test]
fn a_page_that_is_not_read_says_it_received_at_most_once_a_second() {
    let (mut chat, c, bob) = alice_with_bob();
    let d = ConversationId::new_v7();
    let first = chat.apply(receive(d, "m1", bob), true, 10_000, 0.5);
    assert_eq!(sends(&first), ["delivered m1"]);
    assert!(sends(&chat.apply(receive(d, "m2", bob), true, 10_100, 0.5)).is_empty());
    assert!(sends(&chat.apply(receive(d, "m3", bob), true, 10_200, 0.5)).is_empty());
    assert_eq!(chat.next_due_ms(), Some(11_000));
    assert_eq!(sends(&chat.tick(11_000)), ["delivered m3"], "the newest");
    assert_eq!(chat.next_due_ms(), None);
    // In the open, visible conversation, reading says it all.
    let read = chat.apply(receive(c, "m4", bob), true, 12_000, 0.5);
    assert_eq!(sends(&read), ["read m4"]);
}

#[test]
fn the_page_follows_the_people_it_shows_once_per_connection() {
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    let (c, d) = (ConversationId::new_v7(), ConversationId::new_v7());
    let mut direct = entry(c);
    direct.participant = Some(bob.user_id);
    let mut chat = Chat::new(alice.clone(), inbox(vec![direct]));
    let followed = |effects: &[Effect]| -> Vec<Vec<UserId>> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(ClientEvent::PresenceSubscribe(s)) => Some(s.user_ids.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(followed(&chat.on_connected(0, true)), [vec![bob.user_id]]);
    chat.apply(
        ServerEvent::Presence(PresencePayload {
            user_id: bob.user_id,
            online: true,
            last_seen: None,
        }),
        true,
        1,
        0.5,
    );
    assert!(chat.people.online(bob.user_id));
    // Opening a group with Carol adds her; opening it again adds nobody.
    let effects = chat.open_conversation(conversation(d, &[&alice, &carol]), page(d, &[]));
    let both = [bob.user_id, carol.user_id];
    assert_eq!(followed(&effects), [both]);
    let again = chat.open_conversation(conversation(d, &[&alice, &carol]), page(d, &[]));
    assert!(followed(&again).is_empty());
    // A new connection knows nothing and follows nobody until told.
    chat.on_disconnected(Connection::Reconnecting);
    assert!(!chat.people.online(bob.user_id));
    assert_eq!(followed(&chat.on_connected(2, true)), [both]);
}
