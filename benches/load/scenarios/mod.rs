//! The scenarios of issue 6, and what they share: a pool of registered
//! users, the API client, and the database for figures only it knows.
//!
//! Every scenario sets up first (users, conversations, sockets, stored
//! messages), measures only the part its figures describe, and checks what
//! the server answered afterwards (nothing lost, doubled or out of order),
//! outside the measurement.

mod actions;
mod attachments;
mod fanout;
mod idle;
mod limit;
mod page;
mod presence;
mod reacted;
mod reads;
mod search;
mod send;
mod soak;
mod typing;

use crate::client::{self, Api, Incoming, User};
use crate::report::{Outcome, progress};
use crate::target::Target;
use crate::{Options, Res};
use futures::{StreamExt, TryStreamExt};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;

/// How long a client waits for a frame it expects before the scenario fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Sign-ups in flight at once (each costs the server an Argon2 hash).
const SIGNUPS_AT_ONCE: usize = 4;

pub struct Ctx<'a> {
    options: &'a Options,
    target: &'a Target,
    api: Api,
    /// Users shared by the scenarios (the first 50 are `send`'s and
    /// `deliver`'s pairs, the first 200 `fanout`'s group).
    pool: Vec<User>,
    /// Makes this run's usernames unique on a server that is reused.
    run: String,
    named: usize,
    db: Option<PgPool>,
}

impl<'a> Ctx<'a> {
    pub async fn new(options: &'a Options, target: &'a Target) -> Res<Self> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        Ok(Self {
            options,
            target,
            api: Api::new(&target.base).await?,
            pool: Vec::new(),
            run: format!(
                "{}{}",
                base36(now),
                base36(u64::from(std::process::id()) % 1296)
            ),
            named: 0,
            db: None,
        })
    }

    /// One outcome, or several when a scenario measures variants side by
    /// side (`history`: plain, and with reactions and replies).
    pub async fn run(&mut self, name: &str) -> Res<Vec<Outcome>> {
        let one = match name {
            "send" => send::send(self).await,
            "deliver" => send::deliver(self, false).await,
            "deliver2" => send::deliver(self, true).await,
            "history" => return reads::history(self).await,
            "attachments" => return attachments::attachments(self).await,
            "search" => return search::search(self).await,
            "inbox" => reads::inbox(self).await,
            "fanout" => fanout::fanout(self).await,
            "idle" => idle::idle(self).await,
            "limit" => limit::limit(self).await,
            "page" => page::page(self).await,
            "typing" => typing::typing(self).await,
            "actions" => actions::actions(self).await,
            "presence" => presence::presence(self).await,
            "soak" => soak::soak(self).await,
            other => Err(format!("unknown scenario {other}").into()),
        };
        one.map(|outcome| vec![outcome])
    }

    /// The first `n` users of the pool, registering those missing.
    async fn users(&mut self, n: usize) -> Res<Vec<User>> {
        if self.pool.len() < n {
            let missing = n - self.pool.len();
            progress(&format!("signing up {missing} users"));
            let names: Vec<String> = (0..missing).map(|_| self.next_name()).collect();
            let api = &self.api;
            let fresh: Vec<User> = futures::stream::iter(names)
                .map(|name| async move { api.register(&name).await })
                .buffered(SIGNUPS_AT_ONCE)
                .try_collect()
                .await?;
            self.pool.extend(fresh);
        }
        Ok(self.pool[..n].to_vec())
    }

    /// A user of its own, in no conversation yet.
    async fn fresh_user(&mut self) -> Res<User> {
        let name = self.next_name();
        self.api.register(&name).await
    }

    fn next_name(&mut self) -> String {
        self.named += 1;
        format!("ld{}_{}", self.run, self.named)
    }

    /// The server's database, when this run can reach it.
    async fn db(&mut self) -> Option<&PgPool> {
        if self.db.is_none() {
            let url = self.target.database_url.as_ref()?;
            match PgPoolOptions::new().max_connections(2).connect(url).await {
                Ok(pool) => self.db = Some(pool),
                Err(e) => {
                    eprintln!("load: cannot reach the database for figures: {e}");
                    return None;
                }
            }
        }
        self.db.as_ref()
    }

    /// Transactions committed or rolled back in the server's database so
    /// far, by everyone. PostgreSQL's statistics: a backend that goes idle
    /// reports its counts within 10 s (sooner only when it is busy), so
    /// this waits that long first.
    async fn transactions(&mut self) -> Option<i64> {
        tokio::time::sleep(Duration::from_secs(11)).await;
        let db = self.db().await?;
        let count = sqlx::query_scalar::<_, i64>(
            "SELECT (xact_commit + xact_rollback)::int8 FROM pg_stat_database \
             WHERE datname = current_database()",
        )
        .fetch_one(db)
        .await;
        match count {
            Ok(count) => Some(count),
            Err(e) => {
                eprintln!("load: reading transaction counts: {e}");
                None
            }
        }
    }

    /// Search indexing runs behind the send (`search-index-lag-ms` after a
    /// commit): waits until every conversation is indexed and puts on
    /// `outcome` how long that took after `since` and what it cost natter
    /// and PostgreSQL per message (polling included), so the send's figures
    /// leave nothing out.
    async fn indexed_behind(&mut self, since: Instant, messages: u64, outcome: &mut Outcome) {
        let snapshot = self.target.probe.start();
        let Some(db) = self.db().await else { return };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let behind = sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM conversations c \
                 LEFT JOIN search_progress p ON p.conversation_id = c.id \
                 WHERE c.last_seq > coalesce(p.indexed_seq, 0)",
            )
            .fetch_one(db)
            .await;
            match behind {
                Ok(0) => break,
                Ok(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(n) => {
                    outcome.expect(
                        "indexed",
                        &[format!("{n} conversations not indexed in 60 s")],
                    );
                    return;
                }
                Err(e) => {
                    eprintln!("load: reading the search index's progress: {e}");
                    return;
                }
            }
        }
        let usage = self.target.probe.finish(&snapshot);
        let per_msg =
            |s: Option<f64>| s.map(|s| (s * 1e6 / messages.max(1) as f64 * 10.0).round() / 10.0);
        outcome.figure("indexed_ms_after", since.elapsed().as_millis() as u64);
        outcome.figure("index_server_cpu_us_per_msg", per_msg(usage.server_cpu_s));
        outcome.figure("index_pg_cpu_us_per_msg", per_msg(usage.pg_cpu_s));
    }

    /// How the group-commit writer batched these messages: messages stored
    /// by one transaction share its id (`xmin`), so grouping by it gives
    /// every commit's size. Puts batches, mean, p50, p99 and max on `outcome`.
    async fn batch_sizes(&mut self, ids: &[String], outcome: &mut Outcome) {
        let Some(db) = self.db().await else { return };
        let sizes: Result<Vec<i64>, _> = sqlx::query_scalar(
            "SELECT count(*) FROM messages m JOIN unnest($1::text[]) AS sent(id) \
             ON m.message_id = sent.id GROUP BY m.xmin::text ORDER BY 1",
        )
        .bind(ids)
        .fetch_all(db)
        .await;
        let sizes = match sizes {
            Ok(sizes) if !sizes.is_empty() => sizes,
            Ok(_) => return,
            Err(e) => {
                eprintln!("load: reading batch sizes: {e}");
                return;
            }
        };
        let total: i64 = sizes.iter().sum();
        let at = |q: f64| sizes[((sizes.len() - 1) as f64 * q).round() as usize];
        outcome.figure("commits", sizes.len());
        outcome.figure(
            "batch_mean",
            (total as f64 / sizes.len() as f64 * 100.0).round() / 100.0,
        );
        outcome.figure("batch_p50", at(0.5));
        outcome.figure("batch_p99", at(0.99));
        outcome.figure("batch_max", at(1.0));
    }
}

/// The next JSON frame within [`PATIENCE`]; a closed socket or a silent
/// server is an error.
async fn expect_frame<S>(stream: &mut S) -> Res<Incoming>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    match tokio::time::timeout(PATIENCE, client::next_frame(stream)).await {
        Ok(Ok(Some(frame))) => Ok(frame),
        Ok(Ok(None)) => Err("the server closed the socket".into()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no frame within {} s", PATIENCE.as_secs()).into()),
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// A small deterministic generator (xorshift64*): shuffles that differ from
/// run to run only by the seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Per second, over a duration.
fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}
