//! Fan-out across natter nodes that share one PostgreSQL.
//!
//! PostgreSQL is the bus, so one node needs nothing new and several need
//! nothing else. Never inside the send transaction: a transaction that
//! NOTIFYs takes a database-wide lock at commit, which would serialise every
//! send. Instead, after its commits, each node sends a coalesced wake-up from
//! a connection of its own, at most one every [`NOTIFY_EVERY`]: "these
//! conversations have new messages, up to these places". The other nodes read
//! the rows themselves, by `(conversation_id, seq)` ranges on the primary key,
//! and only for conversations with a member connected to them.
//!
//! Within one conversation `seq` follows commit order (each send holds the
//! conversation's row lock until it commits), so "everything up to seq N" is
//! complete once N is visible. A node whose listener drops catches up from
//! the table when it is back: the conversations of its connected users that
//! were active meanwhile.
//!
//! Each node delivers each message once: [`Delivered`] remembers which
//! places of a conversation it has delivered, whether they came from its own
//! commits or from the table, in whatever order they turned up.
//!
//! A node alone sends no wake-ups at all (each NOTIFY is a transaction with
//! its own WAL flush). A node announces itself when it starts listening
//! (`hello`), every node that hears it answers (`here`), and each says
//! `here` again every [`PRESENCE_EVERY`]; a node not heard from for
//! [`PRESENCE_TTL`] is taken to be gone, so the last node left after a
//! scale-down stops waking nobody.

mod listen;
pub(crate) mod wake;

pub(crate) use listen::listener;

use super::delivered::Delivered;
use super::fanout::{Delivery, Fanout, NodeEvent};
use super::hub::Hub;
use crate::protocol::ConversationId;
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use uuid::Uuid;
use wake::Wake;

/// The channel every node listens on.
pub(crate) const CHANNEL: &str = "natter_messages";
/// At most one wake-up per node this often.
pub(crate) const NOTIFY_EVERY: Duration = Duration::from_millis(2);
/// Each node says `here` this often...
pub(crate) const PRESENCE_EVERY: Duration = Duration::from_secs(10);
/// ...and counts as gone when not heard from for this long (several missed
/// announcements: a busy database delays a NOTIFY, it does not lose one).
pub(crate) const PRESENCE_TTL: Duration = Duration::from_secs(45);

/// This node's side of the bus.
pub(crate) struct Peers {
    node: Uuid,
    /// Places committed here since the last wake-up: conversation → (first, last).
    pending: Mutex<HashMap<ConversationId, (i64, i64)>>,
    /// Events for the other nodes not sent yet, in order.
    events: Mutex<Vec<NodeEvent>>,
    wake: Notify,
    delivered: Delivered,
    /// When another node was last heard from (milliseconds since `born`,
    /// plus one; 0 for never): wake-ups are worth sending until
    /// [`PRESENCE_TTL`] after it.
    others_heard: AtomicU64,
    born: Instant,
    /// Held by the committer's batches (shared) from before one is stored
    /// until it is published, and alone by the listener while it delivers rows read from the
    /// table: a row of this node's own batch is then always delivered by the
    /// committer, which spares the connection that sent it.
    gate: Arc<tokio::sync::RwLock<()>>,
}

impl Default for Peers {
    fn default() -> Self {
        Self {
            node: Uuid::now_v7(),
            pending: Mutex::new(HashMap::new()),
            events: Mutex::new(Vec::new()),
            wake: Notify::new(),
            delivered: Delivered::default(),
            others_heard: AtomicU64::new(0),
            born: Instant::now(),
            gate: Arc::new(tokio::sync::RwLock::new(())),
        }
    }
}

impl Peers {
    /// True if this node has not delivered `seq` of `conversation` yet (and
    /// now counts it as delivered).
    pub(crate) fn first_delivery(&self, conversation: ConversationId, seq: i64) -> bool {
        self.delivered.first_time(conversation, seq)
    }

    /// A message committed here: the others will be told.
    pub(crate) fn committed(&self, conversation: ConversationId, seq: i64) {
        self.merge_pending([(conversation, (seq, seq))]);
        self.wake.notify_one();
    }

    /// An event for the others, sent with the next wake-up.
    pub(crate) fn queue_event(&self, event: NodeEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
        self.wake.notify_one();
    }

    fn take_events(&self) -> Vec<NodeEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts back events that could not be sent, ahead of newer ones.
    fn requeue_events(&self, mut events: Vec<NodeEvent>) {
        let mut queued = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.append(&mut queued);
        *queued = events;
    }

    fn take_pending(&self) -> HashMap<ConversationId, (i64, i64)> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Adds places to the next wake-up (new commits, or a wake-up that
    /// could not be sent), one range per conversation.
    fn merge_pending(&self, ranges: impl IntoIterator<Item = (ConversationId, (i64, i64))>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (conversation, (first, last)) in ranges {
            let range = pending.entry(conversation).or_insert((first, last));
            range.0 = range.0.min(first);
            range.1 = range.1.max(last);
        }
    }

    /// True once another node is known to share the database.
    pub(crate) fn others_present(&self) -> bool {
        self.present_at(self.born.elapsed())
    }

    fn present_at(&self, now: Duration) -> bool {
        match self.others_heard.load(Ordering::Relaxed) {
            0 => false,
            heard => now.saturating_sub(Duration::from_millis(heard - 1)) < PRESENCE_TTL,
        }
    }

    /// Another node spoke; true if none was known to be there before.
    fn heard_another(&self, now: Duration) -> bool {
        let was_present = self.present_at(now);
        let stamp = u64::try_from(now.as_millis()).unwrap_or(u64::MAX - 1) + 1;
        self.others_heard.store(stamp, Ordering::Relaxed);
        !was_present
    }
}

/// Delivery to this node's connections, and a wake-up for the others.
pub(crate) struct PeerFanout {
    pub(crate) hub: Arc<Hub>,
    pub(crate) peers: Arc<Peers>,
}

impl Fanout for PeerFanout {
    fn publish(&self, deliveries: &[Delivery]) {
        for delivery in deliveries {
            if self
                .peers
                .first_delivery(delivery.conversation, delivery.seq)
            {
                self.hub
                    .deliver(delivery.members.ids(), delivery.origin, &delivery.frame);
            }
            self.peers.committed(delivery.conversation, delivery.seq);
        }
    }

    fn commit_gate(&self) -> Option<Arc<tokio::sync::RwLock<()>>> {
        Some(self.peers.gate.clone())
    }

    fn tell_others(&self, event: NodeEvent) {
        if self.peers.others_present() {
            self.peers.queue_event(event);
        }
    }
}

/// Sends the coalesced wake-ups, from a connection of its own.
///
/// A wake-up is never dropped: the other nodes learn of a commit only from
/// it (their listener catches up from the table only when its own connection
/// drops), so one that cannot be sent is kept for the next attempt. A dead
/// connection (the database ended the session, or restarted) is replaced at
/// once; when a new one fails too, the database is down and the wake-up
/// waits [`RETRY_EVERY`].
pub(crate) async fn notifier(peers: Arc<Peers>, db: PgPool) {
    let mut conn: Option<PgConnection> = None;
    loop {
        peers.wake.notified().await;
        // Let the commits of the next few milliseconds join this wake-up.
        tokio::time::sleep(NOTIFY_EVERY).await;
        let pending = peers.take_pending();
        let events = peers.take_events();
        // Alone: nobody to tell. (A node that joins announces itself before
        // it serves anyone, so nothing it must hear of is dropped here.)
        if (pending.is_empty() && events.is_empty()) || !peers.others_present() {
            continue;
        }
        let mut sent = wake_others(&peers, &db, &mut conn, &pending, &events).await;
        if sent.is_err() {
            sent = wake_others(&peers, &db, &mut conn, &pending, &events).await;
        }
        if let Err(e) = sent {
            tracing::warn!(error = %e, "waking other nodes failed; retrying");
            peers.merge_pending(pending);
            peers.requeue_events(events);
            tokio::time::sleep(RETRY_EVERY).await;
            peers.wake.notify_one();
        }
    }
}

/// How long a wake-up that could not be sent waits before the next try.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// Sends `pending` on `conn` (connecting first if needed); a connection that
/// fails is closed and forgotten. Resending ranges the others already pulled
/// is harmless: each node delivers each place once.
async fn wake_others(
    peers: &Peers,
    db: &PgPool,
    conn: &mut Option<PgConnection>,
    pending: &HashMap<ConversationId, (i64, i64)>,
    events: &[NodeEvent],
) -> sqlx::Result<()> {
    if conn.is_none() {
        *conn = Some(db.acquire().await?.detach());
    }
    let mut sent = Ok(());
    if let Some(c) = conn.as_mut() {
        let mut payloads = wake::encode_messages(peers.node, pending);
        payloads.extend(wake::encode_events(peers.node, events));
        // All of them in one statement, in order (one round trip however
        // many conversations and events the last moments brought).
        sent = sqlx::query!(
            "SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS p(payload, n) \
             ORDER BY n",
            CHANNEL,
            &payloads,
        )
        .fetch_all(&mut *c)
        .await
        .map(drop);
    }
    if sent.is_err()
        && let Some(c) = conn.take()
    {
        let _ = c.close().await;
    }
    sent
}

/// Says `here` every [`PRESENCE_EVERY`], so that the other nodes know this
/// one is still there (and stop waking it once it is gone).
pub(crate) async fn presence(peers: Arc<Peers>, db: PgPool) {
    loop {
        tokio::time::sleep(PRESENCE_EVERY).await;
        if let Err(e) = announce(&db, &Wake::Here(peers.node)).await {
            tracing::debug!(error = %e, "announcing this node failed");
        }
    }
}

/// Tells the other nodes this one is there (from a pooled connection: the
/// listening one only ever runs LISTEN, which also makes it easy to find in
/// `pg_stat_activity`).
async fn announce(db: &PgPool, wake: &Wake) -> sqlx::Result<()> {
    let Some(payload) = wake.encode_presence() else {
        return Ok(());
    };
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, payload)
        .fetch_one(db)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_node_counts_until_it_has_been_silent_for_the_ttl() {
        let peers = Peers::default();
        let at = Duration::from_secs;
        assert!(!peers.present_at(at(0)), "alone at first");
        assert!(peers.heard_another(at(5)), "a newcomer");
        assert!(!peers.heard_another(at(10)), "the same company");
        assert!(peers.present_at(at(10) + PRESENCE_TTL - at(1)));
        assert!(!peers.present_at(at(10) + PRESENCE_TTL), "gone quiet: gone");
        assert!(peers.heard_another(at(100)), "back again");
    }

    #[test]
    fn commits_coalesce_into_one_range_per_conversation() {
        let peers = Peers::default();
        let c = ConversationId::new_v7();
        for seq in [4, 2, 9] {
            peers.committed(c, seq);
        }
        assert_eq!(peers.take_pending().get(&c), Some(&(2, 9)));
        assert!(peers.take_pending().is_empty());
    }

    #[test]
    fn a_wake_up_that_failed_joins_the_next_one() {
        let peers = Peers::default();
        let (c, d) = (ConversationId::new_v7(), ConversationId::new_v7());
        peers.committed(c, 3);
        peers.committed(d, 1);
        let failed = peers.take_pending();
        peers.committed(c, 5);
        peers.merge_pending(failed);
        let next = peers.take_pending();
        assert_eq!(next.get(&c), Some(&(3, 5)));
        assert_eq!(next.get(&d), Some(&(1, 1)));
    }
}
