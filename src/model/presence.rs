//! Who of the people on screen is online, and when the others were last
//! seen: the dot on an avatar, "online" / "last seen 14:02" in a direct
//! chat's header.
//!
//! The page follows the people it shows (`presence.subscribe`, sent again
//! whenever that list changes and on every new connection, which follows
//! nobody until told); the server answers with their states at once and
//! pushes each change.

use super::time;
use crate::protocol::{
    ClientEvent, MAX_PRESENCE_SUBSCRIPTION, PresenceList, PresencePayload, PresenceSubscription,
    UserId,
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct People {
    /// Online, and when last seen, as last heard; sorted by user (a list:
    /// less code in the browser's bundle than a map).
    known: Vec<(UserId, bool, Option<i64>)>,
    /// Whom the live connection follows (`None`: nobody asked yet on it).
    following: Option<Vec<UserId>>,
}

impl People {
    /// A `presence` push.
    pub(crate) fn changed(&mut self, person: PresencePayload) {
        let entry = (person.user_id, person.online, person.last_seen);
        match self.find(person.user_id) {
            Ok(at) => self.known[at] = entry,
            Err(at) => self.known.insert(at, entry),
        }
    }

    fn find(&self, user: UserId) -> Result<usize, usize> {
        self.known.binary_search_by_key(&user, |(u, ..)| *u)
    }

    fn get(&self, user: UserId) -> Option<(bool, Option<i64>)> {
        let at = self.find(user).ok()?;
        let (_, online, seen) = self.known[at];
        Some((online, seen))
    }

    /// The `presence.state` answer.
    pub(crate) fn listed(&mut self, list: PresenceList) {
        for person in list.people {
            self.changed(person);
        }
    }

    /// Known to be online now.
    pub(crate) fn online(&self, user: UserId) -> bool {
        self.get(user).is_some_and(|(online, _)| online)
    }

    /// "online", "last seen 14:02" (today), "last seen yesterday", "last
    /// seen Mon 14 Apr"; `None` while unknown.
    pub(crate) fn label(&self, user: UserId, now_ms: i64, offset_min: i64) -> Option<String> {
        match self.get(user)? {
            (true, _) => Some("online".into()),
            (false, None) => None,
            (false, Some(seen)) => {
                let day = time::day_number(seen, offset_min);
                let today = time::day_number(now_ms, offset_min);
                Some(if day == today {
                    format!("last seen {}", time::clock(seen, offset_min))
                } else if day == today - 1 {
                    "last seen yesterday".into()
                } else {
                    format!("last seen {}", time::day_label(day, today))
                })
            }
        }
    }

    /// The page now shows `shown` (repeats allowed): the frame that follows
    /// them, unless the connection follows them already. (No sort: a few
    /// hundred people at most, and a sort's code is a sizeable part of the
    /// browser's bundle.)
    pub(crate) fn follow(&mut self, shown: Vec<UserId>) -> Option<ClientEvent> {
        let mut wanted: Vec<UserId> = Vec::with_capacity(shown.len());
        for user in shown {
            if wanted.len() < MAX_PRESENCE_SUBSCRIPTION && !wanted.contains(&user) {
                wanted.push(user);
            }
        }
        if self.following.as_ref() == Some(&wanted) {
            return None;
        }
        self.following = Some(wanted.clone());
        Some(ClientEvent::PresenceSubscribe(PresenceSubscription {
            user_ids: wanted,
        }))
    }

    /// The connection is gone: the next one follows nobody until told, and
    /// what was known may have changed meanwhile.
    pub(crate) fn disconnected(&mut self) {
        self.following = None;
        self.known.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-04-14T09:40:00Z, a Sunday.
    const T: i64 = 1_713_087_600_000;

    #[test]
    fn labels_say_online_or_when_last_seen() {
        let mut people = People::default();
        let bob = UserId::new_v7();
        assert_eq!(people.label(bob, T, 0), None);
        for (seen, label) in [
            (T - 3_600_000, "last seen 08:40"),
            (T - 86_400_000, "last seen yesterday"),
            (T - 3 * 86_400_000, "last seen Thu 11 Apr"),
        ] {
            people.changed(PresencePayload {
                user_id: bob,
                online: false,
                last_seen: Some(seen),
            });
            assert_eq!(people.label(bob, T, 0).as_deref(), Some(label));
            assert!(!people.online(bob));
        }
        people.listed(PresenceList {
            people: vec![PresencePayload {
                user_id: bob,
                online: true,
                last_seen: None,
            }],
        });
        assert_eq!(people.label(bob, T, 0).as_deref(), Some("online"));
        assert!(people.online(bob));
    }

    #[test]
    fn the_same_people_are_followed_once_per_connection() {
        let mut people = People::default();
        let (bob, carol) = (UserId::new_v7(), UserId::new_v7());
        let Some(ClientEvent::PresenceSubscribe(first)) = people.follow(vec![carol, bob, carol])
        else {
            panic!("a subscription");
        };
        assert_eq!(first.user_ids.len(), 2);
        assert_eq!(people.follow(vec![carol, bob]), None, "no change");
        people.disconnected();
        assert!(
            people.follow(vec![bob, carol]).is_some(),
            "a new connection"
        );
        assert!(people.follow(vec![bob]).is_some(), "someone fewer");
    }
}
