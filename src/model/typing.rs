//! "Bob is typing…": who is typing where, as the page shows it, and when
//! the page says that I am.
//!
//! Someone shows as typing in a conversation from their `typing` until
//! their `typing.stop`, a message from them there, or [`SHOW_FOR_MS`]
//! without another `typing` (their client repeats it every
//! [`REPEAT_EVERY_MS`] while they type, so a lost stop costs a few seconds
//! at most). I say `typing` when I type into a box that is not empty, again
//! at most every [`REPEAT_EVERY_MS`], and `typing.stop` when I send or clear
//! it.

use crate::protocol::{ClientEvent, ConversationId, TypingNotice, UserId};

/// How long a `typing` shows without another.
pub const SHOW_FOR_MS: i64 = 6_000;
/// How often, at most, I say `typing` again while I type.
pub const REPEAT_EVERY_MS: i64 = 3_000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Typing {
    /// Who types where, and until when they show; oldest first.
    others: Vec<(ConversationId, UserId, i64)>,
    /// Where I last said I type, and when.
    mine: Option<(ConversationId, i64)>,
}

impl Typing {
    /// `user` types in `conversation` (they said so now).
    pub(crate) fn heard(&mut self, conversation: ConversationId, user: UserId, now_ms: i64) {
        self.stopped(conversation, user);
        self.others.push((conversation, user, now_ms + SHOW_FOR_MS));
    }

    /// `user` stopped typing in `conversation` (said so, or their message
    /// came). Whether that changed what shows.
    pub(crate) fn stopped(&mut self, conversation: ConversationId, user: UserId) -> bool {
        let before = self.others.len();
        self.others
            .retain(|(c, u, _)| (*c, *u) != (conversation, user));
        self.others.len() != before
    }

    /// Forgets who has been quiet for too long. Whether that changed what
    /// shows.
    pub(crate) fn expire(&mut self, now_ms: i64) -> bool {
        let before = self.others.len();
        self.others.retain(|(_, _, until)| *until > now_ms);
        self.others.len() != before
    }

    /// The connection is gone: nobody shows until heard again, and my next
    /// keystroke says so again.
    pub(crate) fn forget(&mut self) {
        self.others.clear();
        self.mine = None;
    }

    /// When someone next stops showing by themselves.
    pub(crate) fn next_expiry_ms(&self) -> Option<i64> {
        self.others.iter().map(|(_, _, until)| *until).min()
    }

    /// Who types in `conversation`, first to start first.
    pub(crate) fn who(&self, conversation: ConversationId) -> impl Iterator<Item = UserId> + '_ {
        self.others
            .iter()
            .filter(move |(c, _, _)| *c == conversation)
            .map(|(_, user, _)| *user)
    }

    /// Whether [`Self::typed`] would say anything now: most keystrokes do
    /// not, and the page need not change (or re-render) for them.
    pub(crate) fn would_say(&self, conversation: ConversationId, empty: bool, now_ms: i64) -> bool {
        match self.mine {
            Some((c, at)) if c == conversation => empty || now_ms - at >= REPEAT_EVERY_MS,
            _ => !empty,
        }
    }

    /// My box in `conversation` changed (`empty`: nothing left in it): the
    /// notice to send, if any.
    pub(crate) fn typed(
        &mut self,
        conversation: ConversationId,
        empty: bool,
        now_ms: i64,
    ) -> Option<ClientEvent> {
        if empty {
            return self.done(conversation);
        }
        if let Some((c, at)) = self.mine
            && c == conversation
            && now_ms - at < REPEAT_EVERY_MS
        {
            return None;
        }
        self.mine = Some((conversation, now_ms));
        Some(ClientEvent::Typing(TypingNotice {
            conversation_id: conversation,
        }))
    }

    /// I sent my message, or cleared the box: `typing.stop`, if I had said
    /// I was typing there.
    pub(crate) fn done(&mut self, conversation: ConversationId) -> Option<ClientEvent> {
        let (c, _) = self.mine.take_if(|(c, _)| *c == conversation)?;
        Some(ClientEvent::TypingStop(TypingNotice { conversation_id: c }))
    }
}

/// What the page says of those typing (by name, first to start first):
/// "Bob is typing…", "Bob and Carol are typing…", "Several people are
/// typing…"; `None` when nobody is.
pub(crate) fn label(names: &[&str]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [one, two] => Some(format!("{one} and {two} are typing…")),
        _ => Some("Several people are typing…".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (ConversationId, ConversationId, UserId, UserId) {
        (
            ConversationId::new_v7(),
            ConversationId::new_v7(),
            UserId::new_v7(),
            UserId::new_v7(),
        )
    }

    #[test]
    fn someone_shows_until_they_stop_or_go_quiet() {
        let (chat, other, bob, carol) = ids();
        let mut t = Typing::default();
        t.heard(chat, bob, 1_000);
        t.heard(chat, carol, 2_000);
        t.heard(other, bob, 2_000);
        assert_eq!(t.who(chat).collect::<Vec<_>>(), [bob, carol]);
        assert!(t.stopped(chat, carol));
        assert!(!t.stopped(chat, carol), "already gone");
        assert_eq!(t.next_expiry_ms(), Some(1_000 + SHOW_FOR_MS));
        // A repeat keeps them showing, and moves them behind nobody.
        t.heard(chat, bob, 5_000);
        assert!(!t.expire(1_000 + SHOW_FOR_MS));
        assert_eq!(t.who(chat).collect::<Vec<_>>(), [bob]);
        assert!(t.expire(5_000 + SHOW_FOR_MS));
        assert_eq!(t.who(chat).count(), 0);
        assert_eq!(t.who(other).count(), 0, "quiet there too");
        assert_eq!(t.next_expiry_ms(), None);
    }

    #[test]
    fn i_say_typing_at_most_every_three_seconds_and_stop_once() {
        let (chat, other, _, _) = ids();
        let mut t = Typing::default();
        assert!(matches!(
            t.typed(chat, false, 0),
            Some(ClientEvent::Typing(_))
        ));
        assert_eq!(t.typed(chat, false, REPEAT_EVERY_MS - 1), None);
        assert!(matches!(
            t.typed(chat, false, REPEAT_EVERY_MS),
            Some(ClientEvent::Typing(_))
        ));
        // Another conversation: at once.
        assert!(matches!(
            t.typed(other, false, REPEAT_EVERY_MS + 1),
            Some(ClientEvent::Typing(_))
        ));
        assert_eq!(t.done(chat), None, "I moved on from there");
        assert!(
            matches!(t.typed(other, true, REPEAT_EVERY_MS + 2), Some(ClientEvent::TypingStop(n)) if n.conversation_id == other)
        );
        assert_eq!(t.done(other), None, "stopped once");
        assert_eq!(t.typed(other, true, REPEAT_EVERY_MS + 3), None);
        // After a stop, the next keystroke says so at once.
        assert!(matches!(
            t.typed(other, false, REPEAT_EVERY_MS + 4),
            Some(ClientEvent::Typing(_))
        ));
    }

    #[test]
    fn most_keystrokes_say_nothing_and_are_known_not_to_beforehand() {
        let (chat, other, _, _) = ids();
        let mut t = Typing::default();
        let steps = [
            (chat, false, 0),
            (chat, false, 1),
            (chat, false, REPEAT_EVERY_MS),
            (other, false, REPEAT_EVERY_MS + 1),
            (other, true, REPEAT_EVERY_MS + 2),
            (other, true, REPEAT_EVERY_MS + 3),
            (chat, true, REPEAT_EVERY_MS + 4),
        ];
        for (conversation, empty, now) in steps {
            let predicted = t.would_say(conversation, empty, now);
            assert_eq!(
                predicted,
                t.typed(conversation, empty, now).is_some(),
                "at {now}"
            );
        }
    }

    #[test]
    fn labels_name_one_or_two_and_count_more() {
        assert_eq!(label(&[]), None);
        assert_eq!(label(&["bob"]).as_deref(), Some("bob is typing…"));
        assert_eq!(
            label(&["bob", "carol"]).as_deref(),
            Some("bob and carol are typing…")
        );
        assert_eq!(
            label(&["bob", "carol", "dave"]).as_deref(),
            Some("Several people are typing…")
        );
    }
}
