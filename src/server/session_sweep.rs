//! Sessions end everywhere, on time: each node checks now and then that
//! the sessions of its WebSockets are still live, closing (4001) the
//! sockets of any that ended (expired, passed their absolute lifetime, or
//! were ended where this node did not hear of it), and deletes ended
//! sessions a batch at a time. One query for all of a node's sockets, not
//! one per socket.

use super::chat::hub::{Hub, Kick};
use super::db::sessions::{self, Lifetime};
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Ended sessions deleted per sweep at most (the rest wait for the next).
const DELETE_BATCH: i64 = 1000;

/// Sweeps every `every` until the process ends.
pub(crate) async fn run(db: PgPool, hub: Arc<Hub>, lifetime: Lifetime, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = sweep(&db, &hub, lifetime).await {
            // The database is down: the next sweep tries again.
            tracing::warn!(error = %e, "session sweep");
        }
    }
}

/// One sweep: closes the sockets of ended sessions, deletes ended sessions.
pub(crate) async fn sweep(db: &PgPool, hub: &Hub, lifetime: Lifetime) -> sqlx::Result<()> {
    let open = hub.sessions();
    if !open.is_empty() {
        let hashes: Vec<Vec<u8>> = open.iter().map(|(_, s)| s.to_vec()).collect();
        let live: HashSet<Vec<u8>> = sessions::live(db, &hashes, lifetime)
            .await?
            .into_iter()
            .collect();
        for (user, session) in &open {
            if !live.contains(session.as_slice()) {
                hub.kick_session(*user, session, Kick::SignedOut);
            }
        }
    }
    sessions::delete_ended(db, lifetime, DELETE_BATCH).await?;
    Ok(())
}
