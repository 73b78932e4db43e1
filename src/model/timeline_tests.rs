use super::*;

fn conv() -> ConversationId {
    ConversationId::parse("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718").unwrap()
}
fn alice() -> UserId {
    UserId::parse("user_0190a6f8c2b47cc1a1b2c3d4e5f60719").unwrap()
}
fn id(n: u32) -> MessageId {
    MessageId::parse(&format!("m{n:04}")).unwrap()
}
fn history(n: u32) -> HistoryMessage {
    HistoryMessage {
        message_id: id(n),
        sender_id: alice(),
        content: Some(crate::protocol::Content::parse(&format!("message {n}")).unwrap()),
        timestamp: i64::from(n),
        change: i64::from(n),
        edited_at: None,
        deleted: false,
        reply: None,
        reactions: Vec::new(),
        attachments: Vec::new(),
    }
}
/// A newest-first page of messages `from..=to` (to newest).
fn page(from: u32, to: u32, more: bool) -> HistoryPage {
    HistoryPage {
        conversation_id: conv(),
        messages: (from..=to).rev().map(history).collect(),
        next_cursor: more.then(|| id(from)),
        last_change: i64::from(to),
    }
}
fn payload(n: u32) -> MessagePayload {
    MessagePayload {
        conversation_id: conv(),
        sender_id: alice(),
        message_id: id(n),
        content: crate::protocol::Content::parse(&format!("message {n}")).unwrap(),
        timestamp: i64::from(n),
        reply_to: None,
        reply: None,
        change: None,
        attachments: Vec::new(),
        mentions: Vec::new(),
    }
}
fn order(t: &Timeline) -> Vec<u32> {
    t.messages()
        .iter()
        .map(|m| m.message_id.as_str()[1..].parse().unwrap())
        .collect()
}

#[test]
fn a_page_is_shown_oldest_first() {
    let t = Timeline::from_page(page(11, 30, true));
    assert_eq!(order(&t), (11..=30).collect::<Vec<_>>());
    assert_eq!(t.older_cursor(), Some(&id(11)));
    assert_eq!(t.newest_stored().unwrap().message_id, id(30));
}

#[test]
fn older_pages_prepend_without_repeats() {
    let mut t = Timeline::from_page(page(11, 30, true));
    assert_eq!(t.prepend_older(page(1, 11, false)), 10);
    assert_eq!(order(&t), (1..=30).collect::<Vec<_>>());
    assert_eq!(t.older_cursor(), None);
}

#[test]
fn live_messages_append_once_and_before_my_pending_ones() {
    let mut t = Timeline::from_page(page(1, 3, false));
    assert!(t.push_pending(payload(100)));
    assert!(t.receive(payload(4)));
    assert!(!t.receive(payload(4)), "a duplicate delivery is ignored");
    assert_eq!(order(&t), [1, 2, 3, 4, 100]);
    assert_eq!(t.messages()[4].status, Status::Pending);
}

#[test]
fn an_ack_marks_sent_and_places_it_after_what_was_stored_before() {
    let mut t = Timeline::from_page(page(1, 2, false));
    t.push_pending(payload(100));
    t.push_pending(payload(101));
    t.receive(payload(3));
    assert!(t.ack(&id(101), 555, None));
    assert_eq!(order(&t), [1, 2, 3, 101, 100]);
    assert_eq!(t.messages()[3].status, Status::Sent);
    assert_eq!(t.messages()[3].timestamp, 555);
    assert!(!t.ack(&id(101), 555, None), "a second ack changes nothing");
}

#[test]
fn failures_can_be_retried() {
    let mut t = Timeline::from_page(page(1, 1, false));
    t.push_pending(payload(100));
    assert!(t.retrying(&id(100), "busy".into()));
    assert!(t.retry(&id(100)).is_none(), "it retries by itself");
    assert!(t.fail(&id(100), "no".into()));
    assert!(matches!(t.messages()[1].status, Status::Failed { .. }));
    assert!(t.retry(&id(100)).is_some());
    assert_eq!(t.messages()[1].status, Status::Pending);
    assert!(t.retry(&id(100)).is_none(), "only a failed message retries");
}

#[test]
fn catch_up_inserts_what_was_missed_in_server_order() {
    let mut t = Timeline::from_page(page(1, 5, false));
    t.push_pending(payload(100));
    // Offline: 6..8 were sent by others; my 100 was stored but its ack lost,
    // after 7. Then 9 arrived live before the catch-up page was read.
    t.receive(payload(9));
    let mut missed = page(2, 8, true);
    missed.messages.insert(1, history(100));
    t.catch_up(missed.clone());
    assert_eq!(order(&t), [1, 2, 3, 4, 5, 6, 7, 100, 8, 9]);
    assert!(t.messages().iter().all(|m| m.status == Status::Sent));
    assert_eq!(t.older_cursor(), None, "the start was already loaded");
    missed.messages.insert(0, history(9));
    t.catch_up(missed);
    assert_eq!(
        order(&t),
        [1, 2, 3, 4, 5, 6, 7, 100, 8, 9],
        "catching up twice adds nothing"
    );
}

#[test]
fn an_empty_catch_up_page_read_before_my_message_was_stored_takes_nothing_away() {
    // An empty conversation; I wrote offline. Back online, the catch-up
    // page is read (empty) while the resend commits, and the ack arrives
    // before the page does.
    let mut t = Timeline::from_page(page(1, 0, false));
    t.push_pending(payload(100));
    assert!(t.ack(&id(100), 100, None));
    t.catch_up(page(1, 0, false));
    assert_eq!(order(&t), [100]);
    assert_eq!(t.messages()[0].status, Status::Sent);
}

#[test]
fn catch_up_across_a_hole_restarts_from_the_newest_page() {
    let mut t = Timeline::from_page(page(1, 5, false));
    t.push_pending(payload(100));
    t.catch_up(page(50, 69, true));
    assert_eq!(order(&t), (50..=69).chain([100]).collect::<Vec<_>>());
    assert_eq!(t.older_cursor(), Some(&id(50)));
    assert_eq!(t.prepend_older(page(30, 49, true)), 20);
}

#[test]
fn other_conversations_are_ignored() {
    let mut t = Timeline::from_page(page(1, 1, false));
    let mut other = payload(2);
    other.conversation_id = ConversationId::new_v7();
    assert!(!t.receive(other.clone()));
    assert!(!t.push_pending(other));
    assert_eq!(order(&t), [1]);
}

/// Opened around message 20 of 40 (a search result): newer pages append
/// in order until the newest, live messages wait for them, and the newest
/// page of a reconnect does not tear a hole.
#[test]
fn opened_around_a_message_pages_newer_until_the_newest() {
    let mut t = Timeline::from_page(page(15, 25, true));
    t.set_newer(Some(id(25)));
    assert!(!t.receive(payload(41)), "a live message far ahead waits");
    t.catch_up(page(31, 41, true));
    assert_eq!(
        t.messages().len(),
        11,
        "the newest page is not next to this"
    );
    let window = |from, to, more: bool| HistoryWindow {
        page: page(from, to, false),
        newer_cursor: more.then(|| id(to)),
    };
    assert_eq!(
        t.append_newer(window(24, 33, true)),
        8,
        "24 and 25 were shown"
    );
    assert_eq!(t.newer_cursor(), Some(&id(33)));
    assert_eq!(t.append_newer(window(34, 41, false)), 8);
    assert_eq!(t.newer_cursor(), None);
    let shown: Vec<MessageId> = t.messages().iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(shown, (15..=41).map(id).collect::<Vec<_>>());
    assert_eq!(
        t.append_newer(window(42, 43, false)),
        0,
        "at the newest: live from now"
    );
    assert!(t.receive(payload(42)));
    assert_eq!(t.older_cursor(), Some(&id(15)));
}
