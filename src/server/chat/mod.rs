//! The chat core: live connections, membership, the group-commit writer and
//! the fan-out seam between them.

mod answer;
mod batches;
pub(crate) mod committer;
pub(crate) mod delivered;
pub(crate) mod fanout;
pub mod hub;
pub(crate) mod indexer;
pub(crate) mod members;
pub(crate) mod peers;
pub(crate) mod presence;
pub(crate) mod refusal;
pub(crate) mod service;

use super::attachments::Files;
use super::config::Settings;
use super::limits::Limits;
use committer::{Batching, Committer};
use fanout::{Fanout, LocalFanout};
use hub::Hub;
use hub::{ConnectionHandle, ConnectionId};
use indexer::Indexer;
use members::MemberCache;
use peers::{PeerFanout, Peers};
use presence::Presence;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Conversations whose member lists stay cached.
const MEMBER_CACHE_CAPACITY: usize = 100_000;

pub struct ChatCore {
    pub(crate) db: PgPool,
    pub hub: Arc<Hub>,
    pub(crate) members: Arc<MemberCache>,
    pub(crate) committer: Committer,
    /// Where committed messages and events for the other nodes leave.
    pub(crate) fanout: Arc<dyn Fanout>,
    /// Every budget; the service checks sends and read markers.
    pub(crate) limits: Arc<Limits>,
    /// Who is online, here and on the other nodes, and who follows whom.
    pub(crate) presence: Arc<Presence>,
    /// Attachments' bytes (a deleted message's go with it).
    pub(crate) files: Arc<Files>,
    /// Search indexing behind the commit.
    pub(crate) indexer: Arc<Indexer>,
}

impl ChatCore {
    /// Starts the committer (and, with `peer-fanout`, the tasks that talk to
    /// the other nodes); the returned task is the committer's, which ends
    /// after [`Committer::close`] once everything queued is answered.
    pub(crate) fn start(
        db: PgPool,
        settings: &Settings,
        limits: Arc<Limits>,
        files: Arc<Files>,
    ) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let hub = Arc::new(Hub::default());
        let members = Arc::new(MemberCache::new(MEMBER_CACHE_CAPACITY));
        let presence = Arc::new(Presence::new(Duration::from_millis(
            settings.presence_grace_ms,
        )));
        let fanout: Arc<dyn Fanout> = if settings.peer_fanout {
            let peers = Arc::new(Peers::default());
            tokio::spawn(peers::notifier(peers.clone(), db.clone()));
            tokio::spawn(peers::presence(peers.clone(), db.clone()));
            tokio::spawn(peers::listener(
                peers.clone(),
                db.clone(),
                hub.clone(),
                members.clone(),
                presence.clone(),
            ));
            Arc::new(PeerFanout {
                hub: hub.clone(),
                peers,
            })
        } else {
            Arc::new(LocalFanout {
                hub: hub.clone(),
                delivered: Default::default(),
            })
        };
        tokio::spawn(presence::keep(presence.clone(), db.clone(), fanout.clone()));
        let indexer = Indexer::spawn(
            db.clone(),
            Duration::from_millis(settings.search_index_lag_ms),
        );
        let (committer, task) = Committer::spawn(
            db.clone(),
            fanout.clone(),
            indexer.clone(),
            Batching {
                max: settings.send_batch_max,
                in_flight: settings.send_batches_in_flight,
                overlap_after: Duration::from_millis(settings.send_overlap_after_ms),
            },
        );
        let core = Arc::new(Self {
            db,
            hub,
            members,
            committer,
            fanout,
            limits,
            presence,
            files,
            indexer,
        });
        (core, task)
    }

    /// A connection opened: in the hub, and its user online (here at once,
    /// elsewhere when the others hear of it).
    pub(crate) fn connect(&self, handle: ConnectionHandle, max_per_user: usize) {
        let user = handle.user();
        if self.hub.register(handle, max_per_user)
            && let Some(event) = self.presence.came(user)
        {
            self.fanout.tell_others(event);
        }
    }

    /// A connection closed: out of the hub, following nobody, and its user
    /// offline after the grace if it was their last here.
    pub(crate) fn disconnect(&self, handle: &ConnectionHandle) {
        let id: ConnectionId = handle.id();
        self.presence.unfollow(id);
        if self.hub.unregister(id) {
            self.presence.left(
                handle.user(),
                crate::server::clock::now_ms(),
                Instant::now(),
            );
        }
    }
}
