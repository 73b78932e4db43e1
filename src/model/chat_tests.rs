use super::*;
use crate::model::outbox::{RETRY_BASE_MS, retry_delay_ms};
use crate::model::timeline::Status;
use crate::protocol::{
    AckPayload, ApiError, ConversationKind, ErrorCode, HistoryMessage, InboxEntry, MarkerPayload,
    MemberPayload, ServerEvent,
};

fn user(name: &str) -> UserSummary {
    UserSummary {
        user_id: UserId::new_v7(),
        username: name.into(),
    }
}

fn text(t: &str) -> Content {
    Content::parse(t).unwrap()
}

fn id(t: &str) -> MessageId {
    MessageId::parse(t).unwrap()
}

fn entry(conversation: ConversationId) -> InboxEntry {
    InboxEntry {
        conversation_id: conversation,
        participant: None,
        last_message: None,
        timestamp: 0,
        kind: ConversationKind::Direct,
        title: None,
        participants: Vec::new(),
        member_count: 2,
        participant_name: None,
        last_sender_id: None,
        last_sender_name: None,
        last_message_id: None,
        unread_count: 0,
        last_attachment: None,
        muted: false,
    }
}

fn conversation(id: ConversationId, people: &[&UserSummary]) -> Conversation {
    Conversation {
        conversation_id: id,
        kind: ConversationKind::Direct,
        title: None,
        participants: people.iter().map(|p| (*p).clone()).collect(),
        former_participants: Vec::new(),
        markers: Vec::new(),
        muted: false,
    }
}

fn inbox(entries: Vec<InboxEntry>) -> Inbox {
    Inbox {
        chats: entries,
        next_cursor: None,
    }
}

fn stored(message_id: &str, sender: UserId) -> HistoryMessage {
    HistoryMessage {
        message_id: id(message_id),
        sender_id: sender,
        content: Some(text(message_id)),
        timestamp: 1,
        change: 0,
        edited_at: None,
        deleted: false,
        reply: None,
        reactions: Vec::new(),
        attachments: Vec::new(),
    }
}

/// A page, newest first, as the server answers.
fn page(conversation: ConversationId, oldest_first: &[HistoryMessage]) -> HistoryPage {
    HistoryPage {
        conversation_id: conversation,
        messages: oldest_first.iter().rev().cloned().collect(),
        next_cursor: None,
        last_change: 0,
    }
}

fn receive(conversation: ConversationId, message_id: &str, from: UserId) -> ServerEvent {
    ServerEvent::Receive(MessagePayload {
        conversation_id: conversation,
        sender_id: from,
        message_id: id(message_id),
        content: text(message_id),
        timestamp: 1,
        reply_to: None,
        reply: None,
        change: None,
        attachments: Vec::new(),
        mentions: Vec::new(),
    })
}

fn sends(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(ClientEvent::Send(m)) => Some(format!("send {}", m.message_id)),
            Effect::Send(ClientEvent::Read(r)) => Some(format!("read {}", r.message_id)),
            Effect::Send(ClientEvent::Delivered(r)) => Some(format!("delivered {}", r.message_id)),
            Effect::Send(ClientEvent::Typing(_)) => Some("typing".into()),
            Effect::Send(ClientEvent::TypingStop(_)) => Some("typing.stop".into()),
            _ => None,
        })
        .collect()
}

fn shown(chat: &Chat) -> Vec<(String, Status)> {
    chat.timeline
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .map(|m| (m.message_id.to_string(), m.status.clone()))
        .collect()
}

/// Alice, with a direct chat with Bob open and connected.
fn alice_with_bob() -> (Chat, ConversationId, UserId) {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = Chat::new(alice.clone(), inbox(vec![entry(c)]));
    chat.open_conversation(conversation(c, &[&alice, &bob]), page(c, &[]));
    chat.on_connected(0, true);
    (chat, c, bob.user_id)
}

#[test]
fn a_message_written_offline_goes_once_connected_and_is_forgotten_when_acknowledged() {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = Chat::new(alice.clone(), inbox(vec![entry(c)]));
    chat.open_conversation(conversation(c, &[&alice, &bob]), page(c, &[]));
    let effects = chat.write(c, text("on the train"), id("m1"), 10);
    assert!(matches!(&effects[..], [Effect::Keep(m)] if m.message_id == id("m1")));
    assert_eq!(shown(&chat), [("m1".into(), Status::Pending)]);

    let effects = chat.on_connected(50, true);
    assert_eq!(sends(&effects), ["send m1"]);
    let effects = chat.apply(
        ServerEvent::Ack(AckPayload {
            conversation_id: c,
            message_id: id("m1"),
            timestamp: 11,
            change: None,
        }),
        true,
        60,
        0.5,
    );
    assert_eq!(effects, [Effect::Forget(id("m1"))]);
    assert!(chat.outbox.is_empty());
    assert_eq!(shown(&chat), [("m1".into(), Status::Sent)]);
    assert_eq!(
        chat.inbox.entries()[0].last_message.as_deref(),
        Some("on the train")
    );
}

#[test]
fn a_message_refused_for_now_waits_its_own_turn_and_a_new_connection_sends_it_at_once() {
    let (mut chat, c, _) = alice_with_bob();
    assert_eq!(
        sends(&chat.write(c, text("hi"), id("m1"), 1_000)),
        ["send m1"]
    );
    let refused = ServerEvent::Error(
        ApiError::new(ErrorCode::Unavailable, "database down").about(Some(id("m1"))),
    );
    assert!(sends(&chat.apply(refused.clone(), true, 1_010, 0.0)).is_empty());
    assert_eq!(
        shown(&chat)[0].1,
        Status::Retrying {
            reason: "database down".into()
        }
    );
    let wait = i64::from(retry_delay_ms(1, 0.0));
    assert!(wait >= i64::from(RETRY_BASE_MS) / 2);
    assert!(sends(&chat.tick(1_010 + wait - 1)).is_empty(), "not yet");
    assert_eq!(sends(&chat.tick(1_010 + wait)), ["send m1"]);
    // Refused again: a longer wait.
    chat.apply(refused, true, 2_000, 0.0);
    assert_eq!(
        chat.next_due_ms(),
        Some(2_000 + i64::from(retry_delay_ms(2, 0.0)))
    );
    // The connection drops and comes back: at once, whatever the schedule.
    chat.on_disconnected(Connection::Reconnecting);
    assert!(
        sends(&chat.tick(100_000)).is_empty(),
        "nothing goes while down"
    );
    assert_eq!(sends(&chat.on_connected(100_001, true)), ["send m1"]);
}

#[test]
fn a_refusal_for_good_forgets_the_message_and_says_why() {
    let (mut chat, c, _) = alice_with_bob();
    chat.write(c, text("hi"), id("m1"), 0);
    let effects = chat.apply(
        ServerEvent::Error(
            ApiError::new(ErrorCode::Conflict, "that id is taken").about(Some(id("m1"))),
        ),
        true,
        5,
        0.5,
    );
    assert_eq!(effects, [Effect::Forget(id("m1"))]);
    assert!(chat.outbox.is_empty());
    assert_eq!(
        shown(&chat)[0].1,
        Status::Failed {
            reason: "that id is taken".into(),
        }
    );
    // Retry puts it back, with the same id.
    let effects = chat.retry(&id("m1"), 10);
    assert_eq!(sends(&effects), ["send m1"]);
    assert!(matches!(&effects[0], Effect::Keep(m) if m.message_id == id("m1")));
}

#[test]
fn live_messages_and_the_catch_up_page_merge_in_order_without_doubles() {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = Chat::new(alice.clone(), inbox(vec![entry(c)]));
    let b = bob.user_id;
    chat.open_conversation(
        conversation(c, &[&alice, &bob]),
        page(c, &[stored("m1", b), stored("m2", b)]),
    );
    chat.on_connected(0, true);
    chat.apply(receive(c, "m3", b), true, 1, 0.5);
    chat.apply(receive(c, "m3", b), true, 1, 0.5);
    chat.write(c, text("mine"), id("m5"), 2);
    // Reconnected: the newest page holds m2..m4 (m4 was missed).
    chat.on_connected(3, true);
    chat.conversation_caught_up(page(
        c,
        &[stored("m2", b), stored("m3", b), stored("m4", b)],
    ));
    let ids: Vec<String> = shown(&chat).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(shown(&chat)[4].1, Status::Pending);
}

#[test]
fn a_message_elsewhere_counts_as_unread_until_that_conversation_is_opened_and_read_once() {
    let (alice, bob) = (user("alice"), user("bob"));
    let (c, d) = (ConversationId::new_v7(), ConversationId::new_v7());
    let mut chat = Chat::new(alice.clone(), inbox(vec![entry(c), entry(d)]));
    chat.on_connected(0, true);
    chat.open_conversation(conversation(c, &[&alice, &bob]), page(c, &[]));
    let effects = chat.apply(receive(d, "m1", bob.user_id), true, 1, 0.5);
    assert_eq!(sends(&effects), ["delivered m1"], "it reached this page");
    assert_eq!(chat.inbox.get(d).unwrap().unread_count, 1);
    assert_eq!(
        chat.inbox.entries()[0].conversation_id,
        d,
        "moved to the top"
    );

    let effects = chat.open_conversation(
        conversation(d, &[&alice, &bob]),
        page(d, &[stored("m1", bob.user_id)]),
    );
    assert_eq!(sends(&effects), ["read m1"]);
    assert_eq!(chat.inbox.get(d).unwrap().unread_count, 0);
    assert!(sends(&chat.seen()).is_empty(), "said once per connection");
    // In the open conversation, a message read on arrival is said at once,
    // but not while the page is hidden.
    assert_eq!(
        sends(&chat.apply(receive(d, "m2", bob.user_id), false, 2_000, 0.5)),
        ["delivered m2"]
    );
    assert_eq!(sends(&chat.seen()), ["read m2"]);
    // Another tab read it: the badge clears here too.
    chat.apply(receive(c, "m3", bob.user_id), true, 3, 0.5);
    chat.apply(
        ServerEvent::Read(MarkerPayload {
            conversation_id: c,
            user_id: alice.user_id,
            message_id: id("m3"),
            unread_count: Some(0),
        }),
        true,
        4,
        0.5,
    );
    assert_eq!(chat.inbox.get(c).unwrap().unread_count, 0);
}

#[test]
fn a_conversation_the_inbox_does_not_list_asks_for_the_inbox_again() {
    let (mut chat, _, bob) = alice_with_bob();
    let effects = chat.apply(receive(ConversationId::new_v7(), "m1", bob), true, 1, 0.5);
    assert_eq!(effects[0], Effect::FetchInbox(None));
    assert_eq!(sends(&effects), ["delivered m1"]);
}

#[test]
fn my_message_stored_from_another_tab_leaves_this_tabs_outbox() {
    let (mut chat, c, _) = alice_with_bob();
    chat.on_disconnected(Connection::Offline);
    chat.write(c, text("twice"), id("m1"), 0);
    let me = chat.my_id();
    let effects = chat.apply(receive(c, "m1", me), true, 1, 0.5);
    assert_eq!(effects, [Effect::Forget(id("m1"))]);
    assert!(chat.outbox.is_empty());
    assert_eq!(shown(&chat), [("m1".into(), Status::Sent)]);
    assert_eq!(
        sends(&chat.on_connected(2, true)),
        ["read m1"],
        "nothing left to send, only how far I read"
    );
}

#[test]
fn messages_left_by_an_earlier_page_are_sent_again_and_shown_pending() {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = Chat::new(alice.clone(), inbox(vec![entry(c)]));
    chat.open_conversation(conversation(c, &[&alice, &bob]), page(c, &[]));
    let left = MessagePayload {
        conversation_id: c,
        sender_id: alice.user_id,
        message_id: id("m9"),
        content: text("left behind"),
        timestamp: 5,
        reply_to: None,
        reply: None,
        change: None,
        attachments: Vec::new(),
        mentions: Vec::new(),
    };
    let someone_elses = MessagePayload {
        sender_id: bob.user_id,
        message_id: id("m8"),
        ..left.clone()
    };
    chat.restore(vec![left, someone_elses], 10);
    assert_eq!(shown(&chat), [("m9".into(), Status::Pending)]);
    assert_eq!(sends(&chat.on_connected(20, true)), ["send m9"]);
}

#[test]
fn scrolling_to_the_end_fetches_the_next_page_once_and_lists_it_below() {
    let alice = user("alice");
    let [a, b] = [(); 2].map(|()| ConversationId::new_v7());
    let mut chat = Chat::new(
        alice,
        Inbox {
            chats: vec![entry(a)],
            next_cursor: Some("1_a".into()),
        },
    );
    assert_eq!(
        chat.want_more_inbox(),
        [Effect::FetchInbox(Some("1_a".into()))]
    );
    assert!(chat.want_more_inbox().is_empty(), "once while on its way");
    // It failed: the next scroll asks again.
    assert!(chat.inbox_arrived(true, None, 0).is_empty());
    assert_eq!(chat.want_more_inbox().len(), 1);
    chat.inbox_arrived(true, Some(inbox(vec![entry(b)])), 0);
    let listed: Vec<ConversationId> = chat
        .inbox
        .entries()
        .iter()
        .map(|e| e.conversation_id)
        .collect();
    assert_eq!(listed, [a, b]);
    assert!(chat.want_more_inbox().is_empty(), "the end");
}

// What the others do: leave groups, write in them, type.
#[path = "chat_others_tests.rs"]
mod others;

// What the others' devices say: ticks and presence.
#[path = "chat_receipts_tests.rs"]
mod receipts;

// Replies, edits, deletions and reactions.
#[path = "chat_actions_tests.rs"]
mod actions;

// Messages with files, held while they upload.
#[path = "chat_uploads_tests.rs"]
mod uploads;
