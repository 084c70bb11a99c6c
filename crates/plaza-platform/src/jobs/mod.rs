//! The durable job queue: jobs live in the database, so one enqueued inside
//! a domain transaction exists only if it commits. Job kinds are types
//! ([`JobKind`]) that name their queue, priority, retry policy and
//! uniqueness, and run with a context the product chooses (its state);
//! a [`Registry`] of them runs on [`start`]ed workers, with leases,
//! heartbeats, retries with backoff, a dead state, and [`cron`] schedules.
//! Knows no domain: the product registers its kinds.

mod completer;
pub mod cron;
mod maintenance;
mod registry;
mod runner;
pub mod store;

use std::time::Duration;

use plaza_core::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Notify;

pub use maintenance::{OptimizeDb, PruneJobs};
pub use registry::Registry;
pub use runner::spawn;
pub use store::{Job, NewJob, Priority, Purge};

use crate::bus::SharedBus;
use crate::platform::Context;

/// A kind of job: its name, queue, priority and retry policy, and `run`.
#[async_trait::async_trait]
pub trait JobKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// What `run` is given: the product's state, or the [`crate::Platform`]
    /// for the machinery's own jobs.
    type Context: Send + Sync + 'static;
    const KIND: &'static str;
    const QUEUE: &'static str;
    const PRIORITY: Priority = Priority::Normal;
    /// This job's priority: the kind's, unless a kind lets the caller
    /// choose per job (an AI request the user marks `high`).
    fn priority(&self) -> Priority {
        Self::PRIORITY
    }
    const MAX_ATTEMPTS: u32 = 5;
    /// First retry delay; doubled per attempt up to `MAX_BACKOFF`.
    const BACKOFF: Duration = Duration::from_secs(5);
    const MAX_BACKOFF: Duration = Duration::from_secs(3600);
    /// Jobs with the same key are one while waiting or running, and for
    /// `UNIQUE_FOR` after they were enqueued.
    fn unique_key(&self) -> Option<String> {
        None
    }
    const UNIQUE_FOR: Duration = Duration::ZERO;
    /// The payload holds secrets (a mail with a reset link): it is erased
    /// once the job completes or dies, so the jobs table keeps none.
    const SENSITIVE: bool = false;

    async fn run(&self, ctx: &Self::Context) -> anyhow::Result<()>;
}

/// Bus topic telling every node's workers that jobs were added.
pub const ADDED_TOPIC: &str = "jobs.added";

/// Enqueues `job` to run at `run_at`, on `conn` (the caller's transaction,
/// if it is one). Use cases enqueue through [`crate::work::Work`], which
/// wakes the workers once they commit.
pub async fn enqueue_at<J: JobKind>(
    conn: &mut sqlx::AnyConnection,
    job: &J,
    run_at: Timestamp,
    now: Timestamp,
) -> Result<(Job, bool), sqlx::Error> {
    let unique_key = job.unique_key();
    let new = NewJob {
        queue: J::QUEUE.to_owned(),
        kind: J::KIND.to_owned(),
        payload: serde_json::to_value(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
        priority: job.priority(),
        max_attempts: J::MAX_ATTEMPTS,
        run_at,
        unique_until: unique_key
            .as_ref()
            .map(|_| now.saturating_add(J::UNIQUE_FOR)),
        unique_key,
    };
    store::enqueue(conn, &new, now).await
}

/// [`enqueue_at`], to run now.
pub async fn enqueue<J: JobKind>(
    conn: &mut sqlx::AnyConnection,
    job: &J,
    now: Timestamp,
) -> Result<(Job, bool), sqlx::Error> {
    enqueue_at(conn, job, now, now).await
}

/// Wakes this node's workers when a job is enqueued here, and counts the
/// jobs they are running.
#[derive(Debug, Default)]
pub struct Workers {
    wake: Notify,
    running: std::sync::atomic::AtomicUsize,
    settled: Notify,
}

impl Workers {
    pub fn new() -> Self {
        Self::default()
    }

    /// A job was just committed.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Jobs were just committed: this node's workers look at once, other
    /// nodes' when the bus tells them (within a second anyway).
    pub async fn added(&self, bus: &SharedBus) {
        self.wake();
        if let Err(e) = bus.publish(ADDED_TOPIC, bytes::Bytes::new()).await {
            tracing::debug!(error = %e, "cannot tell other nodes about new jobs");
        }
    }

    /// Jobs running on this node now.
    pub fn running(&self) -> usize {
        self.running.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Until no job runs on this node.
    pub async fn idle(&self) {
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            if self.running() == 0 {
                return;
            }
            settled.await;
        }
    }
}

/// Runs workers for `queues` with the kinds of `registry`, and the `cron`
/// schedules and the reclaimer, on this node until shutdown. Each queue
/// gets `jobs.concurrency` slots unless `jobs.queue_concurrency` says
/// otherwise.
pub fn start<C: Context>(ctx: &C, registry: Registry<C>, cron: cron::Cron, queues: &[&str]) {
    let jobs = &ctx.as_ref().config.jobs;
    let plan: Vec<(&str, usize)> = queues
        .iter()
        .map(|q| (*q, usize::try_from(jobs.concurrency_of(q)).unwrap_or(1)))
        .collect();
    runner::spawn(ctx, registry, &plan);
    cron::spawn(ctx, cron);
}

/// Delay before retry number `attempt` (1 = the first retry): doubling from
/// `base`, capped at `max`, then spread by ±50 % so a failing dependency is
/// not hit by every retry at once.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = doubled.min(max);
    let mut byte = [0u8; 2];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX),
        Err(_) => 0.5,
    };
    capped.mul_f64(0.5 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for (attempt, nominal) in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)] {
            for _ in 0..50 {
                let d = backoff(attempt, base, max).as_secs_f64();
                let n = f64::from(nominal);
                assert!(d >= n * 0.5 - 1e-9 && d <= n * 1.5 + 1e-9, "{attempt}: {d}");
            }
        }
    }
}
