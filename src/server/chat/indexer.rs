//! Search indexing behind the commit.
//!
//! A send stores what delivery and history need and nothing more: the
//! committer tells this task which conversations a batch touched, and it
//! indexes their new messages (`index_messages`, migration 0011) in one
//! statement per round, on a pooled connection, off the send path. A round
//! runs `lag` after the first commit it has not indexed, so a burst of
//! sends is indexed after the burst, in large rounds, and under sustained
//! load the index trails by about `lag`; a search does not wait that long:
//! it asks for a round at once and waits for it ([`Indexer::caught_up`]),
//! so a message acknowledged on this node is found by the next search.
//!
//! Nothing is lost if a node stops with messages not yet indexed: each
//! conversation's progress is stored with its rows, and on start-up (and
//! every [`SWEEP`] while idle) the indexer catches up every conversation
//! that is behind, whichever node left it so. Edits and deletions rewrite their message's row in
//! their own transaction (`reindex_message`).

use crate::protocol::ConversationId;
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// Conversations per statement at most…
const CONVERSATIONS_PER_ROUND: usize = 500;
/// …and messages of each: a statement stays short, so it never holds the
/// machine for long whatever was left behind.
const MESSAGES_PER_CONVERSATION: i64 = 1_000;
/// After a failed round (the database away), the wait before the next.
const RETRY: Duration = Duration::from_secs(1);
/// How often an idle indexer looks for anything left behind.
const SWEEP: Duration = Duration::from_secs(300);

/// The committer's and the searches' handle.
pub(crate) struct Indexer {
    pending: Mutex<Pending>,
    wake: Notify,
    /// The last generation of commits wholly indexed.
    indexed: watch::Sender<u64>,
}

#[derive(Default)]
struct Pending {
    conversations: HashSet<ConversationId>,
    /// Counts the commits told of so far.
    generation: u64,
    /// A search is waiting: index now.
    urgent: bool,
}

impl Indexer {
    /// Starts the task: first it catches up whatever is behind, then it
    /// indexes each commit about `lag` after it.
    pub(crate) fn spawn(db: PgPool, lag: Duration) -> Arc<Self> {
        let indexer = Arc::new(Self {
            // Generation 1 is the catch-up: a search waits for it too.
            pending: Mutex::new(Pending {
                generation: 1,
                ..Pending::default()
            }),
            wake: Notify::new(),
            indexed: watch::Sender::new(0),
        });
        tokio::spawn(run(indexer.clone(), db, lag));
        indexer
    }

    /// A batch committed new messages in `conversations`.
    pub(crate) fn committed(&self, conversations: impl IntoIterator<Item = ConversationId>) {
        let mut pending = self.pending.lock().expect("indexer lock");
        pending.conversations.extend(conversations);
        pending.generation += 1;
        let first = pending.generation == *self.indexed.borrow() + 1;
        drop(pending);
        if first {
            self.wake.notify_one();
        }
    }

    /// Waits until every commit told of so far is indexed (asking for a
    /// round at once), or `wait` has passed.
    pub(crate) async fn caught_up(&self, wait: Duration) {
        let target = {
            let mut pending = self.pending.lock().expect("indexer lock");
            if *self.indexed.borrow() >= pending.generation {
                return;
            }
            pending.urgent = true;
            pending.generation
        };
        self.wake.notify_one();
        let mut indexed = self.indexed.subscribe();
        let _ = tokio::time::timeout(wait, indexed.wait_for(|done| *done >= target)).await;
    }

    /// What a round takes: the conversations and the generation they
    /// cover, or nothing when nothing waits.
    fn take(&self) -> Option<(Vec<ConversationId>, u64)> {
        let mut pending = self.pending.lock().expect("indexer lock");
        pending.urgent = false;
        if pending.generation == *self.indexed.borrow() {
            return None;
        }
        let conversations = pending.conversations.drain().collect();
        Some((conversations, pending.generation))
    }

    /// A failed round's conversations wait for the next.
    fn put_back(&self, conversations: Vec<ConversationId>) {
        let mut pending = self.pending.lock().expect("indexer lock");
        pending.conversations.extend(conversations);
    }

    fn is_urgent(&self) -> bool {
        self.pending.lock().expect("indexer lock").urgent
    }

    fn has_work(&self) -> bool {
        self.pending.lock().expect("indexer lock").generation > *self.indexed.borrow()
    }
}

async fn run(indexer: Arc<Indexer>, db: PgPool, lag: Duration) {
    loop {
        match behind(&db).await {
            Ok(conversations) => match index(&db, conversations).await {
                Ok(()) => {
                    indexer.indexed.send_modify(|done| *done = (*done).max(1));
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "catching the search index up failed"),
            },
            Err(e) => tracing::warn!(error = %e, "reading the search index's progress failed"),
        }
        tokio::time::sleep(RETRY).await;
    }
    loop {
        while !indexer.has_work() {
            tokio::select! {
                () = indexer.wake.notified() => {}
                () = tokio::time::sleep(SWEEP) => sweep(&db).await,
            }
        }
        let due = Instant::now() + lag;
        while !indexer.is_urgent() {
            tokio::select! {
                () = tokio::time::sleep_until(due) => break,
                () = indexer.wake.notified() => {}
            }
        }
        let Some((conversations, generation)) = indexer.take() else {
            continue;
        };
        match index(&db, conversations.clone()).await {
            Ok(()) => {
                indexer
                    .indexed
                    .send_modify(|done| *done = (*done).max(generation));
            }
            Err(e) => {
                tracing::warn!(error = %e, "indexing new messages for search failed; retrying");
                indexer.put_back(conversations);
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Indexes what is behind, whoever stored it: what a node that stopped
/// between a commit and its indexing left, when no node restarts.
async fn sweep(db: &PgPool) {
    let result = match behind(db).await {
        Ok(conversations) => index(db, conversations).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "sweeping the search index failed");
    }
}

/// Every conversation with messages not yet indexed.
async fn behind(db: &PgPool) -> sqlx::Result<Vec<ConversationId>> {
    sqlx::query_scalar!(
        r#"SELECT c.id AS "id!: ConversationId"
           FROM conversations c
           LEFT JOIN search_progress p ON p.conversation_id = c.id
           WHERE c.last_seq > coalesce(p.indexed_seq, 0)"#
    )
    .fetch_all(db)
    .await
}

/// Indexes every message of `conversations` not yet indexed, a bounded
/// statement at a time.
async fn index(db: &PgPool, mut conversations: Vec<ConversationId>) -> sqlx::Result<()> {
    // Key order, so that two nodes' rounds take row locks in one order.
    conversations.sort_unstable();
    while !conversations.is_empty() {
        let rest = conversations.split_off(conversations.len().min(CONVERSATIONS_PER_ROUND));
        let still: Vec<ConversationId> = sqlx::query_scalar!(
            r#"SELECT conversation_id AS "id!: ConversationId"
               FROM index_messages($1, $2) WHERE behind"#,
            &conversations as &[ConversationId],
            MESSAGES_PER_CONVERSATION,
        )
        .fetch_all(db)
        .await?;
        conversations = still;
        conversations.extend(rest);
        conversations.sort_unstable();
    }
    Ok(())
}
