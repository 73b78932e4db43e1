//! The chat core: live connections, membership, the group-commit writer and
//! the fan-out seam between them.

pub mod committer;
pub mod fanout;
pub mod hub;
pub mod members;

use committer::Committer;
use fanout::{Fanout, LocalFanout};
use hub::Hub;
use members::MemberCache;
use sqlx::PgPool;
use std::sync::Arc;

/// Conversations whose member lists stay cached.
const MEMBER_CACHE_CAPACITY: usize = 100_000;

pub struct ChatCore {
    pub hub: Arc<Hub>,
    pub members: MemberCache,
    pub committer: Committer,
    pub fanout: Arc<dyn Fanout>,
}

impl ChatCore {
    /// Starts the committer; the returned task ends once every `Committer`
    /// handle is dropped and the queue is drained.
    pub fn start(db: PgPool, batch_max: usize) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let hub = Arc::new(Hub::default());
        let fanout: Arc<dyn Fanout> = Arc::new(LocalFanout { hub: hub.clone() });
        let (committer, task) = Committer::spawn(db, fanout.clone(), batch_max);
        let core = Arc::new(Self {
            hub,
            members: MemberCache::new(MEMBER_CACHE_CAPACITY),
            committer,
            fanout,
        });
        (core, task)
    }
}
