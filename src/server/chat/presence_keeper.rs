//! The presence keeper: the task that ends graces when they are due
//! (storing last-seen times, one statement per moment, and telling the
//! other nodes) and forgets nodes gone silent.

use super::{Presence, SEEN_CAPACITY};
use crate::protocol::UserId;
use crate::server::chat::fanout::Fanout;
use crate::server::chat::peers::PRESENCE_TTL;
use crate::server::clock::now_ms;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The keeper: ends graces when they are due (storing last-seen times,
/// one statement per moment, and telling the other nodes), and forgets
/// nodes gone silent. A store that fails is tried again at the next round.
pub(crate) async fn keep(presence: Arc<Presence>, db: PgPool, fanout: Arc<dyn Fanout>) {
    let mut unstored: Vec<(UserId, i64)> = Vec::new();
    loop {
        let wait = presence.next_deadline().map_or(KEEPER_ROUND, |deadline| {
            deadline
                .saturating_duration_since(Instant::now())
                .min(KEEPER_ROUND)
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = presence.due.notified() => continue,
        }
        let now = Instant::now();
        // Graces ending in the next moments end together: a crowd that
        // left at once (a network drop) is told to each follower in one
        // write, a few milliseconds early.
        let expired = presence.expire(now + TOGETHER);
        if let Some(silent_since) = now.checked_sub(PRESENCE_TTL) {
            presence.forget_silent(silent_since, now_ms(), now);
        }
        for event in expired.events {
            fanout.tell_others(event);
        }
        unstored.extend(expired.gone);
        if unstored.is_empty() {
            continue;
        }
        let (users, at): (Vec<UserId>, Vec<i64>) = unstored.iter().copied().unzip();
        match crate::server::db::presence::store_last_seen(&db, &users, &at).await {
            Ok(()) => unstored.clear(),
            Err(e) => {
                tracing::warn!(error = %e, pending = unstored.len(), "storing last-seen times failed; retrying");
                if unstored.len() > SEEN_CAPACITY {
                    unstored.clear();
                }
            }
        }
    }
}

/// Graces that end within this of each other end together.
const TOGETHER: Duration = Duration::from_millis(25);

/// The keeper looks at least this often (for silent nodes, and for a
/// store to try again).
const KEEPER_ROUND: Duration = Duration::from_secs(1);
