//! The chat as others change it: members leaving a group, messages in a
//! group, people typing.

use super::*;

/// Alice in a group with Bob and Carol, open and connected.
fn alice_in_a_group() -> (Chat, ConversationId, UserSummary, UserSummary) {
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    let g = ConversationId::new_v7();
    let mut row = entry(g);
    row.kind = ConversationKind::Group;
    row.member_count = 3;
    row.participants = vec![bob.clone(), carol.clone()];
    let mut chat = Chat::new(alice.clone(), inbox(vec![row]));
    let mut group = conversation(g, &[&alice, &bob, &carol]);
    group.kind = ConversationKind::Group;
    chat.open_conversation(group, page(g, &[stored("m1", carol.user_id)]));
    chat.on_connected(1, true);
    (chat, g, bob, carol)
}

fn left(conversation: ConversationId, user: UserId) -> ServerEvent {
    ServerEvent::Left(MemberPayload {
        conversation_id: conversation,
        user_id: user,
    })
}

#[test]
fn someone_leaving_the_open_group_keeps_their_messages_named() {
    let (mut chat, g, _, carol) = alice_in_a_group();
    let effects = chat.apply(left(g, carol.user_id), true, 2, 0.5);
    assert!(effects.is_empty(), "{effects:?}");
    let open = chat.open.as_ref().unwrap();
    assert_eq!(open.participants.len(), 2, "alice and bob");
    assert_eq!(open.former_participants, std::slice::from_ref(&carol));
    assert_eq!(chat.name_of(carol.user_id), "carol", "on her old message");
    let row = chat.inbox.get(g).unwrap();
    assert_eq!(row.member_count, 2);
    assert!(row.participants.iter().all(|p| p.user_id != carol.user_id));
}

#[test]
fn leaving_in_another_tab_closes_the_group_here() {
    let (mut chat, g, _, _) = alice_in_a_group();
    let me = chat.my_id();
    let effects = chat.apply(left(g, me), true, 2, 0.5);
    assert_eq!(effects, [Effect::ShowInbox]);
    assert!(chat.inbox.get(g).is_none());
}

#[test]
fn a_live_group_message_names_its_sender_in_the_inbox_preview() {
    let (mut chat, g, bob, _) = alice_in_a_group();
    chat.apply(receive(g, "m2", bob.user_id), true, 2, 0.5);
    let row = chat.inbox.get(g).unwrap();
    assert_eq!(row.last_sender_name.as_deref(), Some("bob"));
    chat.write(g, text("hi"), id("m3"), 3);
    let row = chat.inbox.get(g).unwrap();
    assert_eq!(row.last_sender_name.as_deref(), Some("alice"));
}

fn typing(conversation: ConversationId, who: UserId) -> ServerEvent {
    ServerEvent::Typing(crate::protocol::MemberPayload {
        conversation_id: conversation,
        user_id: who,
    })
}

#[test]
fn someone_typing_shows_by_name_until_their_message_or_six_quiet_seconds() {
    let (mut chat, c, bob) = alice_with_bob();
    chat.apply(typing(c, bob), true, 1_000, 0.5);
    assert_eq!(chat.typing_label(c).as_deref(), Some("bob is typing…"));
    assert_eq!(
        chat.next_due_ms(),
        Some(1_000 + crate::model::typing::SHOW_FOR_MS)
    );
    chat.apply(receive(c, "m1", bob), true, 2_000, 0.5);
    assert_eq!(chat.typing_label(c), None, "his message ends it");
    chat.apply(typing(c, bob), true, 3_000, 0.5);
    chat.tick(3_000 + crate::model::typing::SHOW_FOR_MS - 1);
    assert!(chat.typing_label(c).is_some());
    chat.tick(3_000 + crate::model::typing::SHOW_FOR_MS);
    assert_eq!(chat.typing_label(c), None, "quiet too long");
    // My own typing, told back by the server to another tab, never shows.
    let me = chat.my_id();
    chat.apply(typing(c, me), true, 9_000, 0.5);
    assert_eq!(chat.typing_label(c), None);
    // A lost connection forgets who was typing.
    chat.apply(typing(c, bob), true, 9_000, 0.5);
    chat.on_disconnected(Connection::Reconnecting);
    assert_eq!(chat.typing_label(c), None);
}

#[test]
fn my_typing_is_said_now_and_then_and_stopped_by_my_message() {
    let (mut chat, c, _) = alice_with_bob();
    assert_eq!(sends(&chat.typed(c, false, 100)), ["typing"]);
    assert!(sends(&chat.typed(c, false, 200)).is_empty());
    assert_eq!(
        sends(&chat.write(c, text("hi"), id("m1"), 300)),
        ["send m1", "typing.stop"]
    );
    assert_eq!(sends(&chat.typed(c, false, 400)), ["typing"]);
    assert_eq!(sends(&chat.typed(c, true, 500)), ["typing.stop"]);
    chat.on_disconnected(Connection::Reconnecting);
    assert!(
        sends(&chat.typed(c, false, 600)).is_empty(),
        "nothing to say it on"
    );
}
