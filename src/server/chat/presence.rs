//! Who is online: a user is while they have an open WebSocket on any node.
//!
//! Each node knows its own users from the hub (a user's first connection
//! here, their last one gone) and the other nodes' users from what those
//! nodes say on the bus (`NodeEvent::Presence`, and a whole list,
//! `NodeEvent::PresenceSnapshot`, to a node that says `hello`). A user whose
//! last connection here closes stays online for a grace period, so that a
//! reload does not flicker; only then do the other nodes hear of it, their
//! `last_seen` is stored (one write per such moment, however many went
//! offline in it, never per message) and the connections that follow them
//! get a `presence` frame. A node not heard from for
//! [`super::peers::PRESENCE_TTL`] takes its users with it.
//!
//! Followers: each connection follows at most
//! [`crate::protocol::MAX_PRESENCE_SUBSCRIPTION`] people, indexed both ways
//! so that a transition costs one lookup, not a scan of every connection.
//! Nothing here waits: one std `Mutex`, never held across an `.await`, and
//! frames are only offered to each connection's queue (a full one misses
//! it; the client asks again when it reconnects).

use super::fanout::NodeEvent;
use super::hub::{ConnectionHandle, ConnectionId};
use crate::protocol::{PresenceList, PresencePayload, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Users one snapshot event names at most (each event stays well under the
/// bus's payload limit).
const SNAPSHOT_CHUNK: usize = 150;

/// Last-seen times remembered without asking the database; past this many
/// the memory starts over (the database has them).
const SEEN_CAPACITY: usize = 100_000;

enum Here {
    Connected,
    /// The last connection closed at `at_ms`; offline at `deadline`.
    Leaving {
        deadline: Instant,
        at_ms: i64,
    },
}

struct Node {
    users: HashSet<UserId>,
    heard: Instant,
}

struct Follow {
    handle: ConnectionHandle,
    users: Vec<UserId>,
}

#[derive(Default)]
struct State {
    here: HashMap<UserId, Here>,
    nodes: HashMap<Uuid, Node>,
    /// How many other nodes each user is online on.
    elsewhere: HashMap<UserId, u32>,
    /// When users seen going offline by this node were last online (ms).
    seen: HashMap<UserId, i64>,
    follows: HashMap<ConnectionId, Follow>,
    followers: HashMap<UserId, Vec<ConnectionId>>,
    /// Changes not told to the followers yet (within one call).
    changed: Vec<PresencePayload>,
}

impl State {
    fn online(&self, user: UserId) -> bool {
        self.here.contains_key(&user) || self.elsewhere.get(&user).is_some_and(|n| *n > 0)
    }

    fn remember_seen(&mut self, user: UserId, at_ms: i64) {
        if self.seen.len() >= SEEN_CAPACITY && !self.seen.contains_key(&user) {
            self.seen.clear();
        }
        let seen = self.seen.entry(user).or_insert(at_ms);
        *seen = (*seen).max(at_ms);
    }

    /// `user` is online on `node` (true) or no longer (false).
    fn remote(&mut self, node: Uuid, user: UserId, online: bool, at_ms: i64, now: Instant) {
        let was = self.online(user);
        let entry = self.nodes.entry(node).or_insert_with(|| Node {
            users: HashSet::new(),
            heard: now,
        });
        let changed = if online {
            entry.users.insert(user)
        } else {
            entry.users.remove(&user)
        };
        if !changed {
            return;
        }
        let count = self.elsewhere.entry(user).or_default();
        if online {
            *count += 1;
        } else {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.elsewhere.remove(&user);
            }
        }
        self.transition(user, was, at_ms);
    }

    /// Pushes the change, if `user`'s state is not what it `was`.
    fn transition(&mut self, user: UserId, was: bool, at_ms: i64) {
        let now_online = self.online(user);
        if now_online == was {
            return;
        }
        if now_online {
            self.push(user, true, None);
        } else {
            self.remember_seen(user, at_ms);
            self.push(user, false, Some(at_ms));
        }
    }
}

/// This node's view of who is online, and who follows whom.
pub(crate) struct Presence {
    state: Mutex<State>,
    grace: Duration,
    /// Wakes the keeper when a grace starts.
    pub(crate) due: tokio::sync::Notify,
}

/// What the keeper must do after a moment's expiries.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Expired {
    /// Users gone offline here, and when: their last-seen times to store.
    pub(crate) gone: Vec<(UserId, i64)>,
    /// For the other nodes.
    pub(crate) events: Vec<NodeEvent>,
}

impl Presence {
    pub(crate) fn new(grace: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            grace,
            due: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every method leaves the maps consistent before anything can panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `user`'s first connection here opened: what the other nodes must
    /// hear (nothing when they never heard of the user leaving).
    pub(crate) fn came(&self, user: UserId) -> Option<NodeEvent> {
        let mut state = self.lock();
        let was = state.online(user);
        match state.here.insert(user, Here::Connected) {
            Some(Here::Leaving { .. }) => None,
            _ => {
                state.transition(user, was, 0);
                state.tell_followers();
                Some(NodeEvent::Presence {
                    user,
                    online: true,
                    last_seen: None,
                })
            }
        }
    }

    /// `user`'s last connection here closed at `at_ms`: offline once the
    /// grace has passed without another.
    pub(crate) fn left(&self, user: UserId, at_ms: i64, now: Instant) {
        self.lock().here.insert(
            user,
            Here::Leaving {
                deadline: now + self.grace,
                at_ms,
            },
        );
        self.due.notify_one();
    }

    /// Users whose grace ended by `now` go offline.
    pub(crate) fn expire(&self, now: Instant) -> Expired {
        let mut state = self.lock();
        let gone: Vec<(UserId, i64)> = state
            .here
            .iter()
            .filter_map(|(user, here)| match here {
                Here::Leaving { deadline, at_ms } if *deadline <= now => Some((*user, *at_ms)),
                _ => None,
            })
            .collect();
        let mut expired = Expired::default();
        for (user, at_ms) in gone {
            state.here.remove(&user);
            state.transition(user, true, at_ms);
            expired.events.push(NodeEvent::Presence {
                user,
                online: false,
                last_seen: Some(at_ms),
            });
            expired.gone.push((user, at_ms));
        }
        state.tell_followers();
        expired
    }

    /// Everyone online here (in a grace or not), with when they were last
    /// seen here (`now_ms` for those still connected): what a node that
    /// shuts down stores, so that a user who does not come back elsewhere
    /// keeps a true last-seen time.
    pub(crate) fn everyone_here(&self, now_ms: i64) -> Vec<(UserId, i64)> {
        self.lock()
            .here
            .iter()
            .map(|(user, here)| match here {
                Here::Leaving { at_ms, .. } => (*user, *at_ms),
                Here::Connected => (*user, now_ms),
            })
            .collect()
    }

    /// When the next grace ends, if any is running.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.lock()
            .here
            .values()
            .filter_map(|here| match here {
                Here::Leaving { deadline, .. } => Some(*deadline),
                Here::Connected => None,
            })
            .min()
    }

    /// Another node spoke (anything at all): it is still there.
    pub(crate) fn heard(&self, node: Uuid, now: Instant) {
        self.lock()
            .nodes
            .entry(node)
            .or_insert_with(|| Node {
                users: HashSet::new(),
                heard: now,
            })
            .heard = now;
    }

    /// What another node said of one of its users.
    pub(crate) fn remote(&self, node: Uuid, user: UserId, online: bool, at_ms: i64, now: Instant) {
        let mut state = self.lock();
        state.remote(node, user, online, at_ms, now);
        state.tell_followers();
    }

    /// Part of another node's whole list of its online users; the `first`
    /// part replaces what was known of it.
    pub(crate) fn remote_snapshot(
        &self,
        node: Uuid,
        users: &[UserId],
        first: bool,
        at_ms: i64,
        now: Instant,
    ) {
        let mut state = self.lock();
        if first {
            let listed: HashSet<UserId> = users.iter().copied().collect();
            let stale: Vec<UserId> = state
                .nodes
                .get(&node)
                .map(|n| n.users.difference(&listed).copied().collect())
                .unwrap_or_default();
            for user in stale {
                state.remote(node, user, false, at_ms, now);
            }
        }
        for user in users {
            state.remote(node, *user, true, at_ms, now);
        }
        state.tell_followers();
    }

    /// Nodes not heard from since `silent_since` are gone, and their users
    /// with them (last seen when the node was last heard).
    pub(crate) fn forget_silent(&self, silent_since: Instant, now_ms: i64, now: Instant) {
        let mut state = self.lock();
        let gone: Vec<(Uuid, i64)> = state
            .nodes
            .iter()
            .filter(|(_, n)| n.heard < silent_since)
            .map(|(id, n)| {
                let ago = now.saturating_duration_since(n.heard).as_millis();
                (*id, now_ms - i64::try_from(ago).unwrap_or(0))
            })
            .collect();
        for (node, heard_ms) in gone {
            let users: Vec<UserId> = state
                .nodes
                .get(&node)
                .map(|n| n.users.iter().copied().collect())
                .unwrap_or_default();
            for user in users {
                state.remote(node, user, false, heard_ms, now);
            }
            state.nodes.remove(&node);
        }
        state.tell_followers();
    }

    /// This node's online users, as events for a node that just said
    /// `hello` (at least one, so that it forgets anything stale of ours).
    pub(crate) fn snapshot(&self) -> Vec<NodeEvent> {
        let users: Vec<UserId> = self.lock().here.keys().copied().collect();
        let mut events: Vec<NodeEvent> = users
            .chunks(SNAPSHOT_CHUNK)
            .enumerate()
            .map(|(i, chunk)| NodeEvent::PresenceSnapshot {
                users: chunk.to_vec(),
                first: i == 0,
            })
            .collect();
        if events.is_empty() {
            events.push(NodeEvent::PresenceSnapshot {
                users: Vec::new(),
                first: true,
            });
        }
        events
    }

    /// `handle` now follows `people` (replacing whom it followed), each with
    /// their last-seen time from the database: their present states.
    pub(crate) fn follow(
        &self,
        handle: &ConnectionHandle,
        people: Vec<(UserId, Option<i64>)>,
    ) -> PresenceList {
        let mut state = self.lock();
        let id = handle.id();
        state.unfollow(id);
        let mut list = Vec::with_capacity(people.len());
        let mut users = Vec::with_capacity(people.len());
        for (user, stored) in people {
            list.push(state.present(user, stored));
            users.push(user);
        }
        for user in &users {
            state.followers.entry(*user).or_default().push(id);
        }
        if !users.is_empty() {
            state.follows.insert(
                id,
                Follow {
                    handle: handle.clone(),
                    users,
                },
            );
        }
        PresenceList { people: list }
    }

    /// The connection closed: it follows nobody.
    pub(crate) fn unfollow(&self, id: ConnectionId) {
        self.lock().unfollow(id);
    }

    #[cfg(test)]
    pub(crate) fn is_online(&self, user: UserId) -> bool {
        self.lock().online(user)
    }
}

// Telling followers, and answering who is online, in a file of their own.
#[path = "presence_followers.rs"]
mod followers;

// The task that ends graces and forgets silent nodes, in a file of its own.
#[path = "presence_keeper.rs"]
mod keeper;
pub(crate) use keeper::keep;

#[cfg(test)]
#[path = "presence_tests.rs"]
mod tests;
