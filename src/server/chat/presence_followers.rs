//! Presence's followers: what each connection following someone is told,
//! and the state a follower (or a page being rendered) is given.

use super::State;
use crate::protocol::{PresencePayload, ServerEvent, UserId};
use crate::server::chat::hub::{ConnectionId, Frame};

impl State {
    /// Notes a change of `user`'s state for their followers (told by
    /// [`Self::tell_followers`], once the whole change is known).
    pub(super) fn push(&mut self, user: UserId, online: bool, last_seen: Option<i64>) {
        if self.followers.contains_key(&user) {
            self.changed.push(PresencePayload {
                user_id: user,
                online,
                last_seen,
            });
        }
    }

    /// Tells every follower of each changed user, a connection's frames
    /// one after another: when a thousand people go offline at once, a
    /// follower's writer then finds all of its frames queued when it wakes
    /// and sends them in one write, rather than waking (and writing) once
    /// for each as they trickle in.
    pub(super) fn tell_followers(&mut self) {
        if self.changed.is_empty() {
            return;
        }
        let changed = std::mem::take(&mut self.changed);
        let mut frames = Vec::with_capacity(changed.len());
        let mut sends: Vec<(ConnectionId, usize)> = Vec::new();
        for (n, person) in changed.into_iter().enumerate() {
            for id in self.followers.get(&person.user_id).into_iter().flatten() {
                sends.push((*id, n));
            }
            frames.push(Frame::from(ServerEvent::Presence(person).to_json()));
        }
        sends.sort_unstable();
        for (id, n) in sends {
            if let Some(follow) = self.follows.get(&id) {
                follow.handle.offer(frames[n].clone());
            }
        }
    }

    /// `user`'s state now, with `stored` their last-seen time from the
    /// database (this node may know a later one).
    pub(super) fn present(&self, user: UserId, stored: Option<i64>) -> PresencePayload {
        let online = self.online(user);
        let last_seen = if online {
            None
        } else {
            match (stored, self.seen.get(&user)) {
                (Some(a), Some(b)) => Some(a.max(*b)),
                (a, b) => a.or(b.copied()),
            }
        };
        PresencePayload {
            user_id: user,
            online,
            last_seen,
        }
    }

    pub(super) fn unfollow(&mut self, id: ConnectionId) {
        let Some(follow) = self.follows.remove(&id) else {
            return;
        };
        for user in follow.users {
            if let Some(ids) = self.followers.get_mut(&user) {
                ids.retain(|c| *c != id);
                if ids.is_empty() {
                    self.followers.remove(&user);
                }
            }
        }
    }
}
