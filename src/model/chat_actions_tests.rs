//! Replies, edits, deletions and reactions as the page handles them: what
//! it sends, what it keeps until answered, and how the server's news
//! changes what is shown, exactly once whatever order it comes in.

use super::*;
use crate::protocol::{
    ActionAck, ChangesPage, DeletedPayload, EditedPayload, Emoji, Quote, ReactedPayload,
};

fn emoji(e: &str) -> Emoji {
    Emoji::parse(e).unwrap()
}

fn actions(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SendText(frame) => {
                let sent: serde_json::Value = serde_json::from_str(frame).unwrap();
                let p = &sent["payload"];
                let what = match sent["event"].as_str().unwrap() {
                    "message.edit" => format!("edit {}", p["content"].as_str().unwrap()),
                    "message.delete" => "delete".to_owned(),
                    "reaction.add" => format!("react {}", p["emoji"].as_str().unwrap()),
                    "reaction.remove" => format!("unreact {}", p["emoji"].as_str().unwrap()),
                    other => panic!("{other}"),
                };
                let (verb, rest) = what.split_once(' ').unwrap_or((&what, ""));
                let target = p["message_id"].as_str().unwrap();
                Some(format!("{verb} {target} {rest}").trim_end().to_owned())
            }
            _ => None,
        })
        .collect()
}

/// Alice and Bob's chat open with Bob's message `hello` (change 1) and
/// Alice's `mine` (change 2).
fn with_messages() -> (Chat, ConversationId, UserId) {
    let (alice, bob) = (user("alice"), user("bob"));
    let c = ConversationId::new_v7();
    let mut chat = Chat::new(alice.clone(), inbox(vec![entry(c)]));
    let mut hello = stored("hello", bob.user_id);
    hello.change = 1;
    let mut mine = stored("mine", alice.user_id);
    mine.change = 2;
    let mut first = page(c, &[hello, mine]);
    first.last_change = 2;
    chat.open_conversation(conversation(c, &[&alice, &bob]), first);
    chat.on_connected(0, true);
    (chat, c, bob.user_id)
}

fn reacted(c: ConversationId, message: &str, user: UserId, e: &str, change: i64) -> ReactedPayload {
    ReactedPayload {
        conversation_id: c,
        message_id: id(message),
        user_id: user,
        emoji: emoji(e),
        change,
    }
}

fn message<'a>(chat: &'a Chat, message: &str) -> &'a crate::model::timeline::ChatMessage {
    chat.timeline.as_ref().unwrap().get(&id(message)).unwrap()
}

#[test]
fn a_reply_carries_its_quote_and_the_draft_goes() {
    let (mut chat, c, bob) = with_messages();
    chat.start_reply(&id("hello"));
    let quote = Quote {
        message_id: id("hello"),
        sender_id: bob,
        text: Some("hello".into()),
    };
    assert_eq!(chat.draft, Some(Draft::Reply(quote.clone())));
    let effects = chat.write(c, text("hi back"), id("r1"), 5);
    let sent = effects.iter().find_map(|e| match e {
        Effect::Send(ClientEvent::Send(m)) => Some(m.clone()),
        _ => None,
    });
    let sent = sent.expect("sent at once");
    assert_eq!(
        (sent.reply_to, sent.reply),
        (Some(id("hello")), Some(quote.clone()))
    );
    assert_eq!(chat.draft, None);
    assert_eq!(
        message(&chat, "r1").reply,
        Some(quote),
        "shown with its quote while pending"
    );
    // The next one is a plain message again.
    let effects = chat.write(c, text("and another"), id("r2"), 6);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Send(ClientEvent::Send(m)) if m.reply_to.is_none()))
    );
}

#[test]
fn only_my_stored_messages_can_be_edited() {
    let (mut chat, c, _) = with_messages();
    assert_eq!(chat.start_edit(&id("hello")), None, "Bob's");
    assert_eq!(chat.start_edit(&id("mine")).as_deref(), Some("mine"));
    assert_eq!(chat.draft, Some(Draft::Edit(id("mine"))));
    let effects = chat.edit(id("mine"), text("mine, fixed"), id("a1"));
    assert_eq!(actions(&effects), ["edit mine mine, fixed"]);
    assert_eq!(chat.draft, None);
    // Not shown until the server tells everyone.
    assert_eq!(message(&chat, "mine").content.as_deref(), Some("mine"));
    chat.apply_action(ServerEvent::Edited(EditedPayload {
        conversation_id: c,
        message_id: id("mine"),
        content: text("mine, fixed"),
        edited_at: 9,
        change: 3,
    }));
    assert_eq!(
        message(&chat, "mine").content.as_deref(),
        Some("mine, fixed")
    );
    assert!(message(&chat, "mine").edited);
}

#[test]
fn an_action_waits_for_the_connection_and_goes_again_until_answered() {
    let (mut chat, c, _) = with_messages();
    chat.on_disconnected(Connection::Reconnecting);
    let effects = chat.toggle_reaction(id("hello"), emoji("👍"), id("a1"));
    assert!(actions(&effects).is_empty(), "nothing sent while down");
    assert_eq!(actions(&chat.on_connected(1, true)), ["react hello 👍"]);
    assert_eq!(
        actions(&chat.on_connected(2, true)),
        ["react hello 👍"],
        "unanswered: again"
    );
    chat.apply_action(ServerEvent::ActionAck(ActionAck {
        action_id: id("a1"),
        conversation_id: c,
        message_id: id("hello"),
        change: Some(3),
    }));
    assert!(
        actions(&chat.on_connected(3, true)).is_empty(),
        "answered: done"
    );

    // Refused for now: kept; refused for good: dropped and said.
    chat.delete(id("mine"), id("a2"));
    let busy = ApiError::new(ErrorCode::Unavailable, "busy").about_action(Some(id("a2")));
    chat.apply(ServerEvent::Error(busy), true, 0, 0.5);
    assert_eq!(actions(&chat.on_connected(4, true)), ["delete mine"]);
    let no = ApiError::forbidden("only the author can edit or delete a message")
        .about_action(Some(id("a2")));
    chat.apply(ServerEvent::Error(no), true, 0, 0.5);
    assert!(actions(&chat.on_connected(5, true)).is_empty());
    assert_eq!(
        chat.action_error.as_deref(),
        Some("only the author can edit or delete a message")
    );
    assert_eq!(
        shown(&chat).len(),
        2,
        "an action's refusal fails no message"
    );
}

#[test]
fn a_reaction_is_counted_once_whatever_the_order_it_arrives_in() {
    let (mut chat, c, bob) = with_messages();
    let me = chat.my_id();
    // I toggle: not given yet, so it is an add.
    assert_eq!(
        actions(&chat.toggle_reaction(id("hello"), emoji("👍"), id("a1"))),
        ["react hello 👍"]
    );
    chat.apply_action(ServerEvent::Reacted(reacted(c, "hello", me, "👍", 3)));
    chat.apply_action(ServerEvent::Reacted(reacted(c, "hello", bob, "👍", 4)));
    // The same news twice (a duplicate), and an older one late: no change.
    chat.apply_action(ServerEvent::Reacted(reacted(c, "hello", bob, "👍", 4)));
    chat.apply_action(ServerEvent::Reacted(reacted(c, "hello", bob, "👍", 3)));
    let r = &message(&chat, "hello").reactions;
    assert_eq!(
        (r.len(), r[0].count, r[0].mine, r[0].users.clone()),
        (1, 2, true, vec![me, bob])
    );
    // Given: toggling takes it back.
    assert_eq!(
        actions(&chat.toggle_reaction(id("hello"), emoji("👍"), id("a2"))),
        ["unreact hello 👍"]
    );
    chat.apply_action(ServerEvent::Unreacted(reacted(c, "hello", me, "👍", 5)));
    let r = &message(&chat, "hello").reactions;
    assert_eq!(
        (r[0].count, r[0].mine, r[0].users.clone()),
        (1, false, vec![bob])
    );
    chat.apply_action(ServerEvent::Unreacted(reacted(c, "hello", bob, "👍", 6)));
    assert!(message(&chat, "hello").reactions.is_empty());
    assert_eq!(
        chat.timeline.as_ref().unwrap().last_change(),
        6,
        "no change missed"
    );
}

#[test]
fn a_deletion_takes_the_text_reactions_and_quotes_of_it() {
    let (mut chat, c, bob) = with_messages();
    chat.start_reply(&id("hello"));
    chat.write(c, text("quoting"), id("q"), 5);
    chat.apply(
        ServerEvent::Ack(AckPayload {
            conversation_id: c,
            message_id: id("q"),
            timestamp: 5,
            change: Some(3),
        }),
        true,
        0,
        0.5,
    );
    chat.apply_action(ServerEvent::Reacted(reacted(c, "hello", bob, "🔥", 4)));
    chat.apply_action(ServerEvent::Edited(EditedPayload {
        conversation_id: c,
        message_id: id("hello"),
        content: text("hello there"),
        edited_at: 9,
        change: 5,
    }));
    assert_eq!(
        message(&chat, "q").reply.as_ref().unwrap().text.as_deref(),
        Some("hello there")
    );
    chat.apply_action(ServerEvent::Deleted(DeletedPayload {
        conversation_id: c,
        message_id: id("hello"),
        change: 6,
    }));
    let gone = message(&chat, "hello");
    assert_eq!((gone.content.clone(), gone.reactions.len()), (None, 0));
    assert_eq!(
        message(&chat, "q").reply.as_ref().unwrap().text,
        None,
        "the quote says deleted"
    );
}

#[test]
fn missed_changes_replace_what_is_shown_only_when_newer() {
    let (mut chat, c, bob) = with_messages();
    // A gap: change 3 was missed, 4 heard; the catch-up point stays at 2.
    chat.apply_action(ServerEvent::Reacted(reacted(c, "hello", bob, "👀", 4)));
    assert_eq!(chat.timeline.as_ref().unwrap().last_change(), 2);
    let mut edited = stored("mine", chat.my_id());
    edited.content = Some(text("edited while away"));
    edited.change = 3;
    edited.edited_at = Some(7);
    let mut stale = stored("hello", bob);
    stale.change = 1;
    chat.changes_arrived(ChangesPage {
        conversation_id: c,
        messages: vec![edited, stale],
        last_change: 4,
        more: false,
    });
    assert_eq!(
        message(&chat, "mine").content.as_deref(),
        Some("edited while away")
    );
    assert!(message(&chat, "mine").edited);
    assert_eq!(
        message(&chat, "hello").reactions.len(),
        1,
        "an older state does not undo a newer"
    );
    assert_eq!(chat.timeline.as_ref().unwrap().last_change(), 4);
}

#[test]
fn an_edit_or_deletion_of_the_newest_message_changes_the_inbox_preview() {
    let (mut chat, c, bob) = with_messages();
    chat.apply(receive(c, "newest", bob), true, 0, 0.5);
    chat.apply_action(ServerEvent::Edited(EditedPayload {
        conversation_id: c,
        message_id: id("newest"),
        content: text("newest, edited"),
        edited_at: 9,
        change: 4,
    }));
    assert_eq!(
        chat.inbox.get(c).unwrap().last_message.as_deref(),
        Some("newest, edited")
    );
    chat.apply_action(ServerEvent::Deleted(DeletedPayload {
        conversation_id: c,
        message_id: id("mine"),
        change: 5,
    }));
    assert!(
        chat.inbox.get(c).unwrap().last_message.is_some(),
        "not the newest: preview stays"
    );
    chat.apply_action(ServerEvent::Deleted(DeletedPayload {
        conversation_id: c,
        message_id: id("newest"),
        change: 6,
    }));
    assert_eq!(chat.inbox.get(c).unwrap().last_message, None);
}

#[test]
fn a_page_that_goes_away_closes_only_what_it_opened() {
    let (mut chat, c, _) = with_messages();
    let first = chat.opened();
    // The page is drawn again: the new one opens, then the old one goes.
    let open = chat.open.clone().unwrap();
    chat.open_conversation(open, page(c, &[]));
    chat.close_conversation(c, first);
    assert_eq!(
        chat.open_id(),
        Some(c),
        "still open for the page that shows it"
    );
    chat.close_conversation(c, chat.opened());
    assert_eq!(chat.open_id(), None);
}
