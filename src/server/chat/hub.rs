//! The registry of live WebSocket connections on this node.
//!
//! One plain struct with two indexes, by connection and by user (a user has
//! many tabs), kept in step by `register`/`unregister` behind one std
//! `Mutex`. Every method is synchronous: the lock is never held across an
//! `.await`, and delivery only `try_send`s into each connection's bounded
//! queue, so one slow client never holds up anyone else. A connection whose
//! queue is full is kicked (it catches up from history when it reconnects).

use crate::protocol::UserId;
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, mpsc};

/// One serialised frame, shared by every recipient (cloning is a reference
/// count, not a copy).
pub(crate) type Frame = Utf8Bytes;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ConnectionId(u64);

#[cfg(test)]
impl ConnectionId {
    pub(crate) fn from_raw(n: u64) -> Self {
        Self(n)
    }
}

/// Why the server closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kick {
    None = 0,
    /// Its queue overflowed: it reads slower than messages arrive.
    TooSlow = 1,
    /// Its session ended (logout).
    SignedOut = 2,
    /// The server is shutting down; reconnect (to another node).
    Restart = 3,
    /// The user opened more connections than allowed; this is the oldest.
    Replaced = 4,
    /// The peer went away; the writer just stops.
    Closed = 5,
}

impl Kick {
    fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::TooSlow,
            2 => Self::SignedOut,
            3 => Self::Restart,
            4 => Self::Replaced,
            5 => Self::Closed,
            _ => Self::None,
        }
    }

    /// The WebSocket close code and reason sent to the client.
    pub(crate) fn close_code(self) -> (u16, &'static str) {
        match self {
            Self::TooSlow => (1013, "too slow: reconnect and catch up"),
            Self::SignedOut => (4001, "signed out"),
            Self::Restart => (1012, "server restarting"),
            Self::Replaced => (4002, "too many connections"),
            Self::None | Self::Closed => (1000, "bye"),
        }
    }
}

struct Shared {
    id: ConnectionId,
    user: UserId,
    session: [u8; 32],
    outbound: mpsc::Sender<Frame>,
    kick: AtomicU8,
    kicked: Notify,
}

/// A live connection as the rest of the server sees it: where its frames go
/// and how to close it.
#[derive(Clone)]
pub(crate) struct ConnectionHandle(Arc<Shared>);

impl ConnectionHandle {
    pub(crate) fn new(user: UserId, session: [u8; 32], outbound: mpsc::Sender<Frame>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(Arc::new(Shared {
            id: ConnectionId(NEXT.fetch_add(1, Ordering::Relaxed)),
            user,
            session,
            outbound,
            kick: AtomicU8::new(Kick::None as u8),
            kicked: Notify::new(),
        }))
    }

    pub(crate) fn id(&self) -> ConnectionId {
        self.0.id
    }

    pub(crate) fn user(&self) -> UserId {
        self.0.user
    }

    /// Queues a frame without waiting. A full queue kicks the connection;
    /// `false` means the frame will not be delivered.
    pub(crate) fn send(&self, frame: Frame) -> bool {
        match self.0.outbound.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kick(Kick::TooSlow);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues a frame that may be lost (typing): a full queue drops it, and
    /// the connection is not closed for it. Whether it was queued.
    pub(crate) fn offer(&self, frame: Frame) -> bool {
        self.0.outbound.try_send(frame).is_ok()
    }

    /// Asks the connection's writer to close it (the first reason wins).
    pub(crate) fn kick(&self, reason: Kick) {
        if self
            .0
            .kick
            .compare_exchange(
                Kick::None as u8,
                reason as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            self.0.kicked.notify_waiters();
        }
    }

    /// Resolves once the connection has been kicked, with the reason.
    pub(crate) async fn kicked(&self) -> Kick {
        loop {
            // Register interest before looking, so a kick between the look
            // and the wait is not missed (the reader and the writer both
            // wait, hence notify_waiters rather than a stored permit).
            let notified = self.0.kicked.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let reason = Kick::from_u8(self.0.kick.load(Ordering::Acquire));
            if reason != Kick::None {
                return reason;
            }
            notified.await;
        }
    }
}

#[derive(Default)]
struct Registry {
    by_connection: HashMap<ConnectionId, ConnectionHandle>,
    by_user: HashMap<UserId, Vec<ConnectionId>>,
}

/// Live connections on this node.
#[derive(Default)]
pub struct Hub {
    registry: Mutex<Registry>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the two maps out of
        // step (each method updates both before it can panic), so a poisoned
        // lock is still consistent.
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a connection. If the user then has more than `max_per_user`,
    /// their oldest connection is kicked. True if it is the user's first
    /// here.
    pub(crate) fn register(&self, handle: ConnectionHandle, max_per_user: usize) -> bool {
        let mut registry = self.lock();
        let user = handle.user();
        let id = handle.id();
        registry.by_connection.insert(id, handle);
        let ids = registry.by_user.entry(user).or_default();
        let first = ids.is_empty();
        ids.push(id);
        let excess = ids.len().saturating_sub(max_per_user.max(1));
        let oldest: Vec<ConnectionId> = ids.iter().take(excess).copied().collect();
        for old in oldest {
            if let Some(handle) = registry.by_connection.get(&old) {
                handle.kick(Kick::Replaced);
            }
        }
        first
    }

    /// Removes a connection; true if it was its user's last here.
    pub(crate) fn unregister(&self, id: ConnectionId) -> bool {
        let mut registry = self.lock();
        let Some(handle) = registry.by_connection.remove(&id) else {
            return false;
        };
        let user = handle.user();
        let Some(ids) = registry.by_user.get_mut(&user) else {
            return false;
        };
        ids.retain(|c| *c != id);
        if !ids.is_empty() {
            return false;
        }
        registry.by_user.remove(&user);
        true
    }

    /// Queues `frame` on every connection of every user in `users` except
    /// `except`. Returns how many connections got it.
    pub(crate) fn deliver(
        &self,
        users: &[UserId],
        except: Option<ConnectionId>,
        frame: &Frame,
    ) -> usize {
        self.each_connection(users, |handle| {
            Some(handle.id()) != except && handle.send(frame.clone())
        })
    }

    /// Offers `frame` (see [`ConnectionHandle::offer`]) to every connection
    /// of every user in `users` but `except`. How many queued it.
    pub(crate) fn offer(&self, users: &[UserId], except: UserId, frame: &Frame) -> usize {
        self.each_connection(users, |handle| {
            handle.user() != except && handle.offer(frame.clone())
        })
    }

    /// Calls `queue` on each connection of each of `users`, under one lock;
    /// how many times it said the frame was queued.
    fn each_connection(
        &self,
        users: &[UserId],
        mut queue: impl FnMut(&ConnectionHandle) -> bool,
    ) -> usize {
        let registry = self.lock();
        let mut queued = 0;
        for user in users {
            for id in registry.by_user.get(user).into_iter().flatten() {
                if let Some(handle) = registry.by_connection.get(id)
                    && queue(handle)
                {
                    queued += 1;
                }
            }
        }
        queued
    }

    /// Kicks every connection opened with this session (logout).
    pub(crate) fn kick_session(&self, user: UserId, session: &[u8; 32], reason: Kick) {
        let registry = self.lock();
        for id in registry.by_user.get(&user).into_iter().flatten() {
            if let Some(handle) = registry.by_connection.get(id)
                && handle.0.session == *session
            {
                handle.kick(reason);
            }
        }
    }

    /// The sessions with a live connection here, once each.
    pub(crate) fn sessions(&self) -> Vec<(UserId, [u8; 32])> {
        let mut sessions: Vec<(UserId, [u8; 32])> = self
            .lock()
            .by_connection
            .values()
            .map(|h| (h.0.user, h.0.session))
            .collect();
        sessions.sort_unstable();
        sessions.dedup();
        sessions
    }

    /// Kicks every connection (shutdown).
    pub(crate) fn kick_all(&self, reason: Kick) {
        for handle in self.lock().by_connection.values() {
            handle.kick(reason);
        }
    }

    pub fn connection_count(&self) -> usize {
        self.lock().by_connection.len()
    }

    /// Users with at least one live connection here.
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().by_user.contains_key(&user)
    }

    /// Every user with a live connection here.
    pub(crate) fn online_users(&self) -> Vec<UserId> {
        self.lock().by_user.keys().copied().collect()
    }

    #[cfg(test)]
    fn check_invariants(&self) {
        let registry = self.lock();
        let mut indexed = 0;
        for (user, ids) in &registry.by_user {
            assert!(!ids.is_empty(), "empty entry for {user}");
            for id in ids {
                let handle = registry
                    .by_connection
                    .get(id)
                    .expect("indexed connection exists");
                assert_eq!(handle.user(), *user);
                indexed += 1;
            }
        }
        assert_eq!(indexed, registry.by_connection.len());
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
