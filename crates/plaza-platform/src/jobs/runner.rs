//! Running jobs. Each queue has a dispatcher with a number of slots (its
//! concurrency): it claims as many due jobs as slots are free in one
//! statement and runs each in its own task, which keeps the lease alive
//! while the job runs and records the outcome — done (through the
//! [`Completer`]), or failed with a backoff, or dead.
//!
//! Shutdown: workers stop claiming when stopping begins; jobs still running
//! when it halts are handed back to the queue (their attempt not counted).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::completer::Completer;
use super::registry::Registry;
use super::store::{self, Job, Purge};
use super::{ADDED_TOPIC, backoff};
use crate::platform::{Context, Platform};

/// How long a claim lasts without a heartbeat (`jobs.lease`, 30 s).
fn lease(p: &Platform) -> Duration {
    p.config.jobs.lease.0
}
/// How often a worker with nothing to do looks again without being told.
const POLL: Duration = Duration::from_secs(1);
/// How often expired leases are looked for: every 10 s, or sooner with a
/// short lease.
fn reclaim_every(p: &Platform) -> Duration {
    (lease(p) / 2).min(Duration::from_secs(10))
}
/// Most jobs a dispatcher claims in one statement.
const CLAIM_BATCH: usize = 64;

/// What one dispatcher's tasks share.
struct Queue<C> {
    ctx: C,
    registry: Arc<Registry<C>>,
    name: String,
    /// This node's name for its claims on the queue.
    holder: Arc<str>,
    completer: Completer,
}

/// Starts a dispatcher with `concurrency` slots on each queue, the
/// completion writer, the reclaimer, and the listener for other nodes' jobs.
pub fn spawn<C: Context>(ctx: &C, registry: Registry<C>, queues: &[(&str, usize)]) {
    let registry = Arc::new(registry);
    let node = uuid::Uuid::now_v7().simple().to_string();
    let completer = Completer::spawn(ctx.clone());
    for (queue, concurrency) in queues {
        let queue = Arc::new(Queue {
            ctx: ctx.clone(),
            registry: registry.clone(),
            name: (*queue).to_owned(),
            holder: format!("{node}:{queue}").into(),
            completer: completer.clone(),
        });
        tokio::spawn(dispatch(queue, (*concurrency).max(1)));
    }
    tokio::spawn(reclaim(ctx.clone()));
    tokio::spawn(listen(ctx.clone()));
}

/// Wakes this node's workers when another node adds jobs.
async fn listen<C: Context>(ctx: C) {
    let p = ctx.as_ref();
    let mut sub = loop {
        match p.bus.subscribe(ADDED_TOPIC).await {
            Ok(sub) => break sub,
            Err(e) => {
                tracing::warn!(error = %e, "cannot subscribe to new jobs; retrying");
                tokio::time::sleep(POLL).await;
            }
        }
    };
    loop {
        tokio::select! {
            got = sub.recv() => match got {
                Ok(_) | Err(crate::bus::RecvError::Lagged(_)) => p.workers.wake(),
                Err(crate::bus::RecvError::Closed) => return,
            },
            () = p.shutdown.stopping() => return,
        }
    }
}

/// Claims as many due jobs as the queue has free slots and runs each in a
/// task of its own, until shutdown begins.
async fn dispatch<C: Context>(queue: Arc<Queue<C>>, concurrency: usize) {
    let p = queue.ctx.as_ref();
    let slots = Arc::new(Semaphore::new(concurrency));
    while !p.shutdown.is_stopping() {
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => return,
            },
            () = p.shutdown.stopping() => return,
        };
        // Registered before claiming, so an enqueue in between is not missed.
        let woken = p.workers.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let free = (1 + slots.available_permits()).min(CLAIM_BATCH);
        match claim(p, &queue.name, &queue.holder, free).await {
            Ok(jobs) if !jobs.is_empty() => {
                let mut permit = Some(first);
                for job in jobs {
                    // Slots only free up meanwhile, so each is there at once.
                    let slot = match permit.take() {
                        Some(p) => p,
                        None => match slots.clone().acquire_owned().await {
                            Ok(p) => p,
                            Err(_) => return,
                        },
                    };
                    p.workers.running.fetch_add(1, Ordering::AcqRel);
                    let queue = queue.clone();
                    tokio::spawn(async move {
                        run(&queue, job).await;
                        let p = queue.ctx.as_ref();
                        p.workers.running.fetch_sub(1, Ordering::AcqRel);
                        p.workers.settled.notify_waiters();
                        drop(slot);
                    });
                }
            }
            Ok(_) => {
                drop(first);
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = p.shutdown.stopping() => return,
                }
            }
            Err(e) => {
                drop(first);
                tracing::warn!(queue = queue.name, error = %e, "cannot claim jobs");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

async fn claim(
    p: &Platform,
    queue: &str,
    holder: &str,
    limit: usize,
) -> Result<Vec<Job>, sqlx::Error> {
    let now = p.clock.now();
    let mut tx = store::bookkeeping(&p.db).await?;
    let jobs = store::claim_many(
        &mut tx,
        p.db.backend(),
        queue,
        holder,
        now.saturating_add(lease(p)),
        now,
        i64::try_from(limit).unwrap_or(1),
    )
    .await?;
    tx.commit().await?;
    Ok(jobs)
}

async fn run<C: Context>(queue: &Queue<C>, job: Job) {
    let p = queue.ctx.as_ref();
    let Some(kind) = queue.registry.get(job.kind.as_str()) else {
        let unknown = anyhow::anyhow!("no such job kind on this node: {}", job.kind);
        settle(queue, &job, Err(unknown), None).await;
        return;
    };
    // From when the job could first run to when it started.
    let due = job.run_at.max(job.created_at);
    metrics::histogram!("plaza_job_wait_seconds", "queue" => job.queue.clone())
        .record(p.clock.now().duration_since(due).as_secs_f64());
    let started = std::time::Instant::now();
    let running = (kind.run)(queue.ctx.clone(), job.payload.clone());
    let heartbeat = async {
        loop {
            tokio::time::sleep(lease(p) / 3).await;
            let until = p.clock.now().saturating_add(lease(p));
            if let Ok(mut conn) = p.db.writer().acquire().await
                && let Err(e) = store::extend(&mut conn, job.id, &queue.holder, until).await
            {
                tracing::warn!(job_id = %job.id, error = %e, "cannot extend a job's lease");
            }
        }
    };
    let outcome = tokio::select! {
        outcome = running => Some(outcome),
        () = heartbeat => None,
        () = p.shutdown.halted() => None,
    };
    metrics::histogram!("plaza_job_run_seconds", "queue" => job.queue.clone())
        .record(started.elapsed().as_secs_f64());
    match outcome {
        Some(outcome) => settle(queue, &job, outcome, Some((kind.backoff, kind.purge))).await,
        None => release(p, &job, &queue.holder).await,
    }
}

/// Records how a run ended; a failure is retried after a backoff unless it
/// was the last attempt (or the kind is unknown: `kind` None).
async fn settle<C: Context>(
    queue: &Queue<C>,
    job: &Job,
    outcome: anyhow::Result<()>,
    kind: Option<((Duration, Duration), Purge)>,
) {
    let p = queue.ctx.as_ref();
    let now = p.clock.now();
    let purge = kind.map_or(Purge::Keep, |(_, purge)| purge);
    let recorded: Result<bool, String> = match outcome {
        Ok(()) => queue.completer.complete(job.id, &queue.holder, purge).await,
        Err(e) => {
            metrics::counter!("plaza_job_failures_total", "queue" => job.queue.clone())
                .increment(1);
            let attempt = u32::try_from(job.attempts).unwrap_or(u32::MAX);
            let retry_at =
                kind.map(|((base, max), _)| now.saturating_add(backoff(attempt, base, max)));
            tracing::warn!(job_id = %job.id, kind = job.kind, attempt, error = %e, "job failed");
            let error = format!("{e:#}");
            async {
                let mut conn = p.db.writer().acquire().await?;
                store::fail(
                    &mut conn,
                    job.id,
                    &queue.holder,
                    &error,
                    retry_at,
                    now,
                    purge,
                )
                .await
            }
            .await
            .map_err(|e| e.to_string())
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            job_id = %job.id,
            "a job's lease was lost while it ran; its outcome is not recorded"
        ),
        Err(e) => {
            tracing::error!(job_id = %job.id, error = %e, "cannot record a job's outcome; its lease will expire and it will run again")
        }
    }
}

/// Hands a job that could not finish (shutdown) back to the queue.
async fn release(p: &Platform, job: &Job, worker: &str) {
    let result = match p.db.writer().acquire().await {
        Ok(mut conn) => store::release(&mut conn, job.id, worker).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(job_id = %job.id, error = %e, "cannot hand a job back; its lease will expire");
    }
}

/// Jobs per queue and state, as gauges on `/metrics`; a pair seen before
/// and gone now is set to zero.
async fn report_depths(p: &Platform, seen: &mut HashSet<(String, String)>) {
    let counts = match p.db.reader().acquire().await {
        Ok(mut conn) => store::counts(&mut conn, p.clock.now()).await,
        Err(e) => Err(e),
    };
    match counts {
        Ok(rows) => {
            let mut now_seen = HashSet::new();
            for (queue, bucket, n) in rows {
                metrics::gauge!("plaza_jobs", "queue" => queue.clone(), "state" => bucket.clone())
                    .set(n as f64);
                now_seen.insert((queue, bucket));
            }
            for (queue, bucket) in seen.difference(&now_seen) {
                metrics::gauge!("plaza_jobs", "queue" => queue.clone(), "state" => bucket.clone())
                    .set(0.0);
            }
            *seen = now_seen;
        }
        Err(e) => tracing::debug!(error = %e, "cannot count jobs"),
    }
}

async fn reclaim<C: Context>(ctx: C) {
    let p = ctx.as_ref();
    let mut seen = HashSet::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(reclaim_every(p)) => {}
            () = p.shutdown.stopping() => return,
        }
        report_depths(p, &mut seen).await;
        let now = p.clock.now();
        let result = match p.db.writer().acquire().await {
            Ok(mut conn) => store::reclaim(&mut conn, now).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(jobs = n, "jobs of stopped workers reclaimed");
                p.workers.wake();
            }
            Err(e) => tracing::warn!(error = %e, "cannot reclaim expired jobs"),
        }
    }
}
