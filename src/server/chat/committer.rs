//! The send path's single writer: group commit.
//!
//! Each connection's reader validates a `message.send`, checks membership in
//! the cache and hands a [`PendingSend`] to this task through a bounded
//! channel (when it is full the reader waits, so a flood slows only its own
//! connection). The writer takes everything queued at that moment, up to
//! `batch_max`, and stores it with ONE statement ([`db::batch`]: the short
//! one for new messages without files, the full one for retries and
//! files): one round trip and one WAL flush for the whole batch. Only after
//! that commit is each origin connection acked and `message.receive`
//! published through the fan-out seam, in commit order, by the answering
//! task ([`super::answer`]) while the next batch is already committing.
//!
//! Cost per message: no query of its own, and no search indexing (the
//! batch's conversations are handed to the indexer, which indexes them
//! later, off this path). Per batch: one statement (one
//! fsync) on the writer's own connection, kept between batches: taking one
//! from the pool would add a health-check round trip to every batch, about a
//! sixth of the throughput. A connection that turns out dead is replaced and
//! the batch tried again at once, which is safe because a batch that did
//! commit is found again by its message ids.
//!
//! While a batch commits the next one queues up, so batches grow with load
//! and latency stays at about one commit at low load. A batch held up in
//! the database (a row another node holds, a slow flush) would hold every
//! chat up behind it: once it has taken `overlap_after`, another starts on
//! a connection of its own, up to `in_flight` at once. A conversation or a
//! connection is in at most one batch in flight ([`super::batches`]), so
//! order is as with one.

use super::answer::{Answer, Committed};
use super::batches::{Batches, Key};
use super::fanout::Fanout;
use super::hub::{ConnectionHandle, ConnectionId};
use super::indexer::Indexer;
use super::members::Members;
use crate::protocol::{ApiError, Quote};
use crate::server::db::{
    self,
    batch::{self, NewMessage, Stored},
};
use crate::server::error::is_unavailable;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, RwLock, mpsc, oneshot};
use tokio::time::Instant;

/// A validated, authorised message waiting to be stored.
pub(crate) struct PendingSend {
    pub(crate) message: NewMessage,
    /// A reply's quote of the message it answers, as it was when checked.
    pub(crate) reply_quote: Option<Quote>,
    pub(crate) members: Members,
    /// Who hears how it went.
    pub(crate) reply: ReplyTo,
}

/// Who is waiting for a message's outcome.
pub(crate) enum ReplyTo {
    /// A WebSocket connection: it gets `message.ack` or `error`, and no
    /// `message.receive` of its own message.
    Connection(ConnectionHandle),
    /// A request waiting for the commit (a form post from the page without
    /// JavaScript): every connection of the sender gets the
    /// `message.receive`.
    Waiter(oneshot::Sender<SendOutcome>),
}

impl ReplyTo {
    pub(super) fn connection_id(&self) -> Option<ConnectionId> {
        match self {
            Self::Connection(handle) => Some(handle.id()),
            Self::Waiter(_) => None,
        }
    }
}

/// The stored timestamp, or why the message was refused.
pub(crate) type SendOutcome = Result<i64, ApiError>;

/// The handle readers submit to.
#[derive(Clone)]
pub(crate) struct Committer {
    queue: mpsc::Sender<PendingSend>,
    stop: Arc<Notify>,
}

/// How the writer makes batches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batching {
    /// Messages in one batch at most.
    pub(crate) max: usize,
    /// Batches committing at once at most.
    pub(crate) in_flight: usize,
    /// Another batch starts while one commits only once that one has taken
    /// this long.
    pub(crate) overlap_after: Duration,
}

/// The committer has stopped (shutdown); nothing was stored.
#[derive(Debug)]
pub(crate) struct CommitterClosed;

impl Committer {
    pub(crate) fn spawn(
        db: PgPool,
        fanout: Arc<dyn Fanout>,
        indexer: Arc<Indexer>,
        batching: Batching,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let batching = Batching {
            max: batching.max.max(1),
            in_flight: batching.in_flight.max(1),
            ..batching
        };
        let (queue, rx) = mpsc::channel(batching.max * 4);
        let stop = Arc::new(Notify::new());
        let answer = Answer { fanout, indexer };
        let task = tokio::spawn(run(rx, db, answer, batching, stop.clone()));
        (Self { queue, stop }, task)
    }

    /// Shutdown: stop taking messages (a later `submit` fails), store and
    /// answer everything already queued, then end the task.
    pub(crate) fn close(&self) {
        self.stop.notify_one();
    }

    /// Queues a message, waiting while the queue is full.
    pub(crate) async fn submit(&self, send: PendingSend) -> Result<(), CommitterClosed> {
        self.queue.send(send).await.map_err(|_| CommitterClosed)
    }
}

async fn run(
    mut rx: mpsc::Receiver<PendingSend>,
    db: PgPool,
    answer: Answer,
    batching: Batching,
    stop: Arc<Notify>,
) {
    // Stored batches are answered by a task of their own, in commit order,
    // so the next batch is on its way to the database while this one's
    // acks and messages go out.
    let gate = answer.fanout.commit_gate();
    let (to_answer, answers) = mpsc::channel(batching.in_flight * 4);
    let answering = tokio::spawn(answer.run(answers));
    let mut writers: Vec<Writer> = (0..batching.in_flight)
        .map(|_| Writer::new(db.clone()))
        .collect();
    let mut waiting = Batches::new(batching.max);
    let mut running = FuturesUnordered::new();
    // When each batch in flight started.
    let mut started: Vec<Instant> = Vec::new();
    let mut incoming = Vec::with_capacity(batching.max);
    // Taken from the queue at most (the queue's own bound then holds the
    // senders back).
    let most_waiting = batching.max * 4;
    let mut open = true;
    loop {
        // Start what may start: a batch when none is in flight, another
        // only once the oldest has taken `overlap_after` (held up: a row
        // another node holds, a slow flush). Sooner, batches would only
        // split, and each costs the database a fixed price.
        let mut blocked = false;
        while !writers.is_empty()
            && started
                .iter()
                .min()
                .is_none_or(|oldest| oldest.elapsed() >= batching.overlap_after)
        {
            let Some((batch, keys)) = waiting.next_batch() else {
                blocked = true;
                break;
            };
            let Some(writer) = writers.pop() else {
                break;
            };
            let at = Instant::now();
            started.push(at);
            let gate = gate.clone();
            running.push(async move {
                let (writer, committed) = store(writer, gate, batch).await;
                (writer, committed, keys, at)
            });
        }
        if !open && running.is_empty() && waiting.is_empty() {
            break;
        }
        // Waiting for the oldest batch to count as held up.
        let overlap_at = started
            .iter()
            .min()
            .filter(|_| !blocked && !writers.is_empty() && !waiting.is_empty())
            .map(|oldest| *oldest + batching.overlap_after);
        tokio::select! {
            biased;
            () = stop.notified(), if open => rx.close(),
            Some((writer, committed, keys, at)) = running.next(), if !running.is_empty() => {
                waiting.done(&keys);
                writers.push(writer);
                if let Some(i) = started.iter().position(|s| *s == at) {
                    started.swap_remove(i);
                }
                // Before the loop hears of any later commit, so each
                // conversation's messages and each connection's acks go out
                // in order. Full only if answering lags far behind.
                if to_answer.send(committed).await.is_err() {
                    tracing::error!("the committer's answering task ended");
                }
            }
            () = tokio::time::sleep_until(overlap_at.unwrap_or_else(Instant::now)), if overlap_at.is_some() => {}
            taken = rx.recv_many(&mut incoming, batching.max), if open && waiting.len() < most_waiting => {
                // Closed (shutdown) and drained: finish what is left.
                open = taken > 0;
                for send in incoming.drain(..) {
                    let keys = [
                        Some(Key::Conversation(send.message.conversation_id)),
                        send.reply.connection_id().map(Key::Connection),
                    ];
                    waiting.push(send, keys);
                }
            }
        }
    }
    // Everything stored is answered before the committer ends.
    drop(to_answer);
    let _ = answering.await;
}

/// A writer's connection, made on first use and after one fails.
struct Writer {
    db: PgPool,
    conn: Option<db::Planned>,
    /// Until when each batch goes through the statement that looks for ids
    /// already stored: set when a batch held one (clients retrying after a
    /// reconnect come in waves).
    careful_until: Option<Instant>,
}

/// How long a writer stays careful after a batch held an id already stored.
const CAREFUL_FOR: Duration = Duration::from_secs(10);

impl Writer {
    fn new(db: PgPool) -> Self {
        Self {
            db,
            conn: None,
            careful_until: None,
        }
    }

    /// Stores `rows`; a connection that fails as unavailable is dropped and,
    /// if it was an old one (the database may have restarted since), the
    /// batch is tried once more on a new one.
    ///
    /// A batch of new messages without files takes the shorter statement
    /// ([`batch::insert_fresh`]) unless a recent batch held a retry; if
    /// this one does, it fails whole, storing nothing, and goes through
    /// the full one at once.
    async fn insert(&mut self, rows: &[NewMessage]) -> sqlx::Result<Vec<Stored>> {
        loop {
            let reused = self.conn.is_some();
            let conn = match &mut self.conn {
                Some(conn) => conn,
                None => self.conn.insert(db::Planned::connect(&self.db).await?),
            }
            .conn()
            .await?;
            let fresh = self
                .careful_until
                .is_none_or(|until| until <= Instant::now())
                && rows.iter().all(|row| row.attachments.is_empty());
            let result = if fresh {
                batch::insert_fresh(&mut *conn, rows).await
            } else {
                batch::insert_batch(&mut *conn, rows).await
            };
            match result {
                Err(e) if fresh && is_unique_violation(&e) => {
                    self.careful_until = Some(Instant::now() + CAREFUL_FOR);
                }
                Err(e) if is_unavailable(&e) => {
                    if let Some(conn) = self.conn.take() {
                        conn.close_hard().await;
                    }
                    if !reused {
                        return Err(e);
                    }
                }
                result => return result,
            }
        }
    }
}

/// How many times a batch is retried after a conflict with a concurrent
/// writer (another node storing the same id, or a deadlock).
const ATTEMPTS: usize = 3;

/// Stores a batch on its own task: the committer answers the one before
/// meanwhile.
async fn store(
    mut writer: Writer,
    gate: Option<Arc<RwLock<()>>>,
    batch: Vec<PendingSend>,
) -> (Writer, Committed) {
    let _gate = match gate {
        Some(gate) => Some(gate.read_owned().await),
        None => None,
    };
    // A batch may hold the same message id twice (a client retrying on two
    // connections at once). Store the first; the others get its outcome.
    let mut first_of: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
    let mut unique: Vec<usize> = Vec::with_capacity(batch.len());
    let mut repeat_of: Vec<Option<usize>> = Vec::with_capacity(batch.len());
    for (index, send) in batch.iter().enumerate() {
        match first_of.get(send.message.message_id.as_str()) {
            Some(&first) => repeat_of.push(Some(first)),
            None => {
                first_of.insert(send.message.message_id.as_str(), index);
                unique.push(index);
                repeat_of.push(None);
            }
        }
    }
    drop(first_of);
    let rows: Vec<NewMessage> = unique.iter().map(|&i| batch[i].message.clone()).collect();

    let mut attempt = 0;
    let stored = loop {
        attempt += 1;
        match writer.insert(&rows).await {
            Ok(stored) => break Some(stored),
            Err(e) if attempt < ATTEMPTS && is_retryable(&e) => {
                tracing::debug!(error = %e, attempt, "batch raced another writer; retrying");
            }
            Err(e) => {
                if is_unavailable(&e) {
                    tracing::warn!(error = %e, messages = batch.len(), "database unavailable; batch refused");
                } else {
                    tracing::error!(error = %e, messages = batch.len(), "storing a batch failed");
                }
                break None;
            }
        }
    };
    let committed = Committed {
        batch,
        unique,
        repeat_of,
        stored,
        _gate,
    };
    (writer, committed)
}

fn is_retryable(error: &sqlx::Error) -> bool {
    is_unique_violation(error)
        || matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("40P01"))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
