//! The chat core: live connections, membership, the group-commit writer and
//! the fan-out seam between them.

pub(crate) mod committer;
pub(crate) mod delivered;
pub(crate) mod fanout;
pub mod hub;
pub(crate) mod members;
pub(crate) mod peers;
pub(crate) mod service;

use super::config::Settings;
use super::limits::Limits;
use committer::Committer;
use fanout::{Fanout, LocalFanout};
use hub::Hub;
use members::MemberCache;
use peers::{PeerFanout, Peers};
use sqlx::PgPool;
use std::sync::Arc;

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
}

impl ChatCore {
    /// Starts the committer (and, with `peer-fanout`, the tasks that talk to
    /// the other nodes); the returned task is the committer's, which ends
    /// after [`Committer::close`] once everything queued is answered.
    pub(crate) fn start(
        db: PgPool,
        settings: &Settings,
        limits: Arc<Limits>,
    ) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let hub = Arc::new(Hub::default());
        let members = Arc::new(MemberCache::new(MEMBER_CACHE_CAPACITY));
        let fanout: Arc<dyn Fanout> = if settings.peer_fanout {
            let peers = Arc::new(Peers::default());
            tokio::spawn(peers::notifier(peers.clone(), db.clone()));
            tokio::spawn(peers::presence(peers.clone(), db.clone()));
            tokio::spawn(peers::listener(
                peers.clone(),
                db.clone(),
                hub.clone(),
                members.clone(),
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
        let (committer, task) =
            Committer::spawn(db.clone(), fanout.clone(), settings.send_batch_max);
        let core = Arc::new(Self {
            db,
            hub,
            members,
            committer,
            fanout,
            limits,
        });
        (core, task)
    }
}
