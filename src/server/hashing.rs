//! Password hashing, held to a share of the machine: argon2 takes 19 MiB
//! and tens of milliseconds per hash by design, so a flood of sign-ups or
//! log-ins (or someone guessing passwords) must not take every core, the
//! memory, or an unbounded queue. At most `password-hash-workers` hashes run
//! at once (by default one core fewer than the machine has, at least one),
//! at most `password-hash-queue` wait for their turn (past it: at once
//! `rate_limited`), and none waits longer than `password-hash-wait-ms`
//! (then `unavailable`).

use super::config::Settings;
use super::error::AppResult;
use crate::protocol::{ApiError, ErrorCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

pub(crate) struct Hasher {
    running: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
    wait: Duration,
}

/// One place in the queue, given back however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Hasher {
    pub(crate) fn new(settings: &Settings) -> Self {
        let workers = match settings.password_hash_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)),
            n => n,
        };
        Self {
            running: Semaphore::new(workers.max(1)),
            waiting: AtomicUsize::new(0),
            queue: settings.password_hash_queue,
            wait: Duration::from_millis(settings.password_hash_wait_ms),
        }
    }

    /// Runs one hash-sized job on the blocking pool when its turn comes.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = match self.running.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                let place = Waiting(&self.waiting);
                if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.queue {
                    return Err(ApiError::new(
                        ErrorCode::RateLimited,
                        "Too many sign-ups and log-ins right now; try again in a moment",
                    )
                    .into());
                }
                let permit = tokio::time::timeout(self.wait, self.running.acquire())
                    .await
                    .map_err(|_| {
                        ApiError::new(
                            ErrorCode::Unavailable,
                            "The server is too busy to check passwords; try again in a moment",
                        )
                    })?
                    .map_err(|_| ApiError::internal())?;
                drop(place);
                permit
            }
        };
        let done = tokio::task::spawn_blocking(job).await?;
        drop(permit);
        Ok(done)
    }
}
