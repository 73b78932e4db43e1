//! Repository functions: one module per table group. Each takes a pool (or
//! any executor) and returns domain types; every query on a hot path is a
//! range scan or a key lookup on an index named in `migrations/`. The REST
//! handlers and the server functions behind the pages both call these, so
//! there is one copy of each query.

pub(crate) mod actions;
pub(crate) mod attachments;
pub(crate) mod batch;
pub(crate) mod conversations;
pub(crate) mod inbox;
pub(crate) mod markers;
pub(crate) mod messages;
pub(crate) mod presence;
pub(crate) mod search;
pub(crate) mod search_newest;
pub(crate) mod sessions;
pub(crate) mod users;

use sqlx::{Connection, PgConnection, PgPool};
use std::time::{Duration, Instant};

/// A connection of its own for a task that runs the same few statements for
/// the life of the process (the group-commit writer, the reader of other
/// nodes' messages), taken out of the pool.
///
/// Its statements stay prepared and are planned once (a generic plan from
/// the first execution on), so those plans must not depend on the tables'
/// sizes at that moment: planned while `messages` was nearly empty, the
/// writer looked retried ids up with a sequential scan, and the reader read
/// other nodes' ranges with one, each costing more with every message
/// stored (1.8 ms a batch of 25 after 10,000 messages; a second node fell
/// seconds behind at 2,000 messages/s). Without sequential scans every
/// lookup is an index's, always. Planning afresh each time instead would
/// cost 0.25 ms a statement, most of a quiet server's work per message.
/// The plans are made again every [`REPLAN_EVERY`] ([`Planned`]).
async fn planned_connection(db: &PgPool) -> sqlx::Result<PgConnection> {
    let mut conn = db.acquire().await?.detach();
    sqlx::query!(
        "SELECT set_config('enable_seqscan', 'off', false) AS seqscan, \
                set_config('plan_cache_mode', 'force_generic_plan', false) AS plans",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(conn)
}

/// How often a [`Planned`] connection plans its statements again, so that
/// the plans follow the tables' statistics as they grow (a plan made while
/// a table was small may read all of it, the statement slowing with every
/// row: the writer's read-marker step merge-joined all of `participants`).
const REPLAN_EVERY: Duration = Duration::from_secs(60);

/// A connection of its own ([`planned_connection`]) whose plans are at
/// most [`REPLAN_EVERY`] old.
pub(crate) struct Planned {
    conn: PgConnection,
    planned_at: Instant,
    every: Duration,
}

impl Planned {
    pub(crate) async fn connect(db: &PgPool) -> sqlx::Result<Self> {
        Self::connect_every(db, REPLAN_EVERY).await
    }

    /// Planning again every `every` (the tests' shorter interval).
    async fn connect_every(db: &PgPool, every: Duration) -> sqlx::Result<Self> {
        Ok(Self {
            conn: planned_connection(db).await?,
            planned_at: Instant::now(),
            every,
        })
    }

    /// The connection, its statements dropped first (to be prepared and
    /// planned again as they are next run) once its plans are old.
    pub(crate) async fn conn(&mut self) -> sqlx::Result<&mut PgConnection> {
        if self.planned_at.elapsed() >= self.every {
            self.planned_at = Instant::now();
            self.conn.clear_cached_statements().await?;
        }
        Ok(&mut self.conn)
    }

    /// Drops a connection that failed, without a goodbye.
    pub(crate) async fn close_hard(self) {
        let _ = self.conn.close_hard().await;
    }
}

#[cfg(test)]
mod planned_tests;
