//! Running jobs: job kinds are types ([`JobKind`]), registered by name.
//! Each queue has a dispatcher with a number of slots (its concurrency): it
//! claims as many due jobs as slots are free in one statement and runs
//! each in its own task, which keeps the lease alive while the job runs and
//! records the outcome — done, or failed with a backoff, or dead. Outcomes
//! that arrive together are written together (one `UPDATE` for a batch of
//! completions), so a busy queue costs a few statements per batch instead
//! of two per job.
//!
//! Shutdown: workers stop claiming when stopping begins; jobs still running
//! when it halts are handed back to the queue (their attempt not counted).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};

use super::store::{self, Job, NewJob, Priority, Purge};
use crate::state::AppState;

/// How long a claim lasts without a heartbeat (`jobs.lease`, 30 s).
fn lease(state: &AppState) -> Duration {
    state.config.jobs.lease.0
}
/// How often a worker with nothing to do looks again without being told.
const POLL: Duration = Duration::from_secs(1);
/// How often expired leases are looked for: every 10 s, or sooner with a
/// short lease.
fn reclaim_every(state: &AppState) -> Duration {
    (lease(state) / 2).min(Duration::from_secs(10))
}
/// Most jobs a dispatcher claims in one statement.
const CLAIM_BATCH: usize = 64;
/// Most completions written in one statement.
const COMPLETE_BATCH: usize = 512;

/// A kind of job: its name, queue, priority and retry policy, and `run`.
#[async_trait::async_trait]
pub trait JobKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: &'static str;
    const QUEUE: &'static str;
    const PRIORITY: Priority = Priority::Normal;
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

    async fn run(&self, state: &AppState) -> anyhow::Result<()>;
}

/// Bus topic telling every node's workers that jobs were added.
pub const ADDED_TOPIC: &str = "jobs.added";

/// Tells the workers of every node that jobs were just committed (this
/// node's at once, others' through the bus); without it they find them
/// within a second anyway.
pub async fn added(state: &AppState) {
    state.workers.wake();
    if let Err(e) = state.bus.publish(ADDED_TOPIC, bytes::Bytes::new()).await {
        tracing::debug!(error = %e, "cannot tell other nodes about new jobs");
    }
}

/// Enqueues `job` to run now, in the caller's transaction if it is one;
/// call [`added`] after committing.
pub async fn enqueue<J: JobKind>(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    job: &J,
) -> Result<(Job, bool), sqlx::Error> {
    let now = state.clock.now();
    enqueue_at(conn, state, job, now).await
}

pub async fn enqueue_at<J: JobKind>(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    job: &J,
    run_at: plaza_core::Timestamp,
) -> Result<(Job, bool), sqlx::Error> {
    let now = state.clock.now();
    let unique_key = job.unique_key();
    let new = NewJob {
        queue: J::QUEUE.to_owned(),
        kind: J::KIND.to_owned(),
        payload: serde_json::to_value(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
        priority: J::PRIORITY,
        max_attempts: J::MAX_ATTEMPTS,
        run_at,
        unique_until: unique_key
            .as_ref()
            .map(|_| now.saturating_add(J::UNIQUE_FOR)),
        unique_key,
    };
    store::enqueue(conn, &new, now).await
}

type Run = Arc<dyn Fn(AppState, String) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

struct Kind {
    run: Run,
    backoff: (Duration, Duration),
    purge: Purge,
}

/// The job kinds a node can run.
#[derive(Default)]
pub struct Registry {
    kinds: HashMap<&'static str, Kind>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<J: JobKind>(&mut self) -> &mut Self {
        let run: Run = Arc::new(|state, payload| {
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload)?;
                job.run(&state).await
            })
        });
        self.kinds.insert(
            J::KIND,
            Kind {
                run,
                backoff: (J::BACKOFF, J::MAX_BACKOFF),
                purge: if J::SENSITIVE {
                    Purge::Erase
                } else {
                    Purge::Keep
                },
            },
        );
        self
    }
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

/// Starts a dispatcher with `concurrency` slots on each queue, the
/// completion writer, and the reclaimer.
pub fn spawn(state: &AppState, registry: Registry, queues: &[(&str, usize)]) {
    let registry = Arc::new(registry);
    let node = uuid::Uuid::now_v7().simple().to_string();
    let completer = Completer::spawn(state.clone());
    for (queue, concurrency) in queues {
        tokio::spawn(dispatch(
            state.clone(),
            registry.clone(),
            (*queue).to_owned(),
            format!("{node}:{queue}"),
            (*concurrency).max(1),
            completer.clone(),
        ));
    }
    tokio::spawn(reclaim(state.clone()));
    tokio::spawn(listen(state.clone()));
}

/// Wakes this node's workers when another node adds jobs.
async fn listen(state: AppState) {
    let mut sub = loop {
        match state.bus.subscribe(ADDED_TOPIC).await {
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
                Ok(_) | Err(plaza_platform::bus::RecvError::Lagged(_)) => state.workers.wake(),
                Err(plaza_platform::bus::RecvError::Closed) => return,
            },
            () = state.shutdown.stopping() => return,
        }
    }
}

/// Claims as many due jobs as `queue` has free slots and runs each in a
/// task of its own, until shutdown begins. `holder` is this node's name for
/// its claims on the queue.
async fn dispatch(
    state: AppState,
    registry: Arc<Registry>,
    queue: String,
    holder: String,
    concurrency: usize,
    completer: Completer,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    let holder: Arc<str> = holder.into();
    while !state.shutdown.is_stopping() {
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => return,
            },
            () = state.shutdown.stopping() => return,
        };
        // Registered before claiming, so an enqueue in between is not missed.
        let woken = state.workers.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let free = (1 + slots.available_permits()).min(CLAIM_BATCH);
        match claim(&state, &queue, &holder, free).await {
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
                    state
                        .workers
                        .running
                        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    let (state, registry, holder, completer) = (
                        state.clone(),
                        registry.clone(),
                        holder.clone(),
                        completer.clone(),
                    );
                    tokio::spawn(async move {
                        run(&state, &registry, &holder, job, &completer).await;
                        state
                            .workers
                            .running
                            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                        state.workers.settled.notify_waiters();
                        drop(slot);
                    });
                }
            }
            Ok(_) => {
                drop(first);
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = state.shutdown.stopping() => return,
                }
            }
            Err(e) => {
                drop(first);
                tracing::warn!(queue, error = %e, "cannot claim jobs");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

async fn claim(
    state: &AppState,
    queue: &str,
    holder: &str,
    limit: usize,
) -> Result<Vec<Job>, sqlx::Error> {
    let now = state.clock.now();
    let mut tx = store::bookkeeping(&state.db).await?;
    let jobs = store::claim_many(
        &mut tx,
        state.db.backend(),
        queue,
        holder,
        now.saturating_add(lease(state)),
        now,
        i64::try_from(limit).unwrap_or(1),
    )
    .await?;
    tx.commit().await?;
    Ok(jobs)
}

/// A completion waiting to be written.
struct Done {
    id: String,
    holder: Arc<str>,
    purge: Purge,
    /// Whether the holder still held the job.
    reply: oneshot::Sender<Result<bool, String>>,
}

/// Writes completions in batches: whatever arrived while the previous
/// batch was being written goes in the next statement.
#[derive(Clone)]
struct Completer {
    tx: mpsc::UnboundedSender<Done>,
}

impl Completer {
    fn spawn(state: AppState) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(COMPLETE_BATCH);
            while rx.recv_many(&mut batch, COMPLETE_BATCH).await > 0 {
                write_completions(&state, std::mem::take(&mut batch)).await;
            }
        });
        Self { tx }
    }

    /// Records a job done; false if its lease was lost meanwhile.
    async fn complete(&self, id: &str, holder: &Arc<str>, purge: Purge) -> Result<bool, String> {
        let (reply, answer) = oneshot::channel();
        let done = Done {
            id: id.to_owned(),
            holder: holder.clone(),
            purge,
            reply,
        };
        if self.tx.send(done).is_err() {
            return Err("the completion writer stopped".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the completion writer stopped".into()))
    }
}

async fn write_completions(state: &AppState, batch: Vec<Done>) {
    let now = state.clock.now();
    let mut groups: HashMap<(Arc<str>, Purge), Vec<Done>> = HashMap::new();
    for done in batch {
        groups
            .entry((done.holder.clone(), done.purge))
            .or_default()
            .push(done);
    }
    for ((holder, purge), group) in groups {
        let ids: Vec<&str> = group.iter().map(|d| d.id.as_str()).collect();
        let written = async {
            let mut tx = store::bookkeeping(&state.db).await?;
            let held = store::complete_many(&mut tx, &ids, &holder, now, purge).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(held)
        }
        .await;
        match written {
            Ok(held) => {
                for done in group {
                    let still = held.contains(&done.id);
                    let _ = done.reply.send(Ok(still));
                }
            }
            Err(e) => {
                for done in group {
                    let _ = done.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn run(
    state: &AppState,
    registry: &Registry,
    worker: &Arc<str>,
    job: Job,
    completer: &Completer,
) {
    let Some(kind) = registry.kinds.get(job.kind.as_str()) else {
        settle(
            state,
            &job,
            worker,
            Err(anyhow::anyhow!(
                "no such job kind on this node: {}",
                job.kind
            )),
            None,
            completer,
        )
        .await;
        return;
    };
    // From when the job could first run to when it started.
    let due = if job.run_at > job.created_at {
        job.run_at
    } else {
        job.created_at
    };
    metrics::histogram!("plaza_job_wait_seconds", "queue" => job.queue.clone())
        .record(state.clock.now().duration_since(due).as_secs_f64());
    let started = std::time::Instant::now();
    let running = (kind.run)(state.clone(), job.payload.clone());
    let heartbeat = async {
        loop {
            tokio::time::sleep(lease(state) / 3).await;
            let until = state.clock.now().saturating_add(lease(state));
            if let Ok(mut conn) = state.db.writer().acquire().await
                && let Err(e) = store::extend(&mut conn, &job.id, worker, until).await
            {
                tracing::warn!(job_id = job.id, error = %e, "cannot extend a job's lease");
            }
        }
    };
    let outcome = tokio::select! {
        outcome = running => Some(outcome),
        () = heartbeat => None,
        () = state.shutdown.halted() => None,
    };
    metrics::histogram!("plaza_job_run_seconds", "queue" => job.queue.clone())
        .record(started.elapsed().as_secs_f64());
    match outcome {
        Some(outcome) => {
            settle(
                state,
                &job,
                worker,
                outcome,
                Some((kind.backoff, kind.purge)),
                completer,
            )
            .await
        }
        None => release(state, &job, worker).await,
    }
}

/// Records how a run ended; a failure is retried after a backoff unless it
/// was the last attempt (or the kind is unknown: `backoff` None).
async fn settle(
    state: &AppState,
    job: &Job,
    worker: &Arc<str>,
    outcome: anyhow::Result<()>,
    kind: Option<((Duration, Duration), Purge)>,
    completer: &Completer,
) {
    let now = state.clock.now();
    let purge = kind.map_or(Purge::Keep, |(_, purge)| purge);
    let recorded: Result<bool, String> = match outcome {
        Ok(()) => completer.complete(&job.id, worker, purge).await,
        Err(e) => {
            metrics::counter!("plaza_job_failures_total", "queue" => job.queue.clone())
                .increment(1);
            let attempt = u32::try_from(job.attempts).unwrap_or(u32::MAX);
            let retry_at =
                kind.map(|((base, max), _)| now.saturating_add(super::backoff(attempt, base, max)));
            tracing::warn!(job_id = job.id, kind = job.kind, attempt, error = %e, "job failed");
            let error = format!("{e:#}");
            async {
                let mut conn = state.db.writer().acquire().await?;
                store::fail(&mut conn, &job.id, worker, &error, retry_at, now, purge).await
            }
            .await
            .map_err(|e| e.to_string())
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            job_id = job.id,
            "a job's lease was lost while it ran; its outcome is not recorded"
        ),
        Err(e) => {
            tracing::error!(job_id = job.id, error = %e, "cannot record a job's outcome; its lease will expire and it will run again")
        }
    }
}

/// Hands a job that could not finish (shutdown) back to the queue.
async fn release(state: &AppState, job: &Job, worker: &str) {
    let result = match state.db.writer().acquire().await {
        Ok(mut conn) => store::release(&mut conn, &job.id, worker).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(job_id = job.id, error = %e, "cannot hand a job back; its lease will expire");
    }
}

/// Jobs per queue and state, as gauges on `/metrics`; a pair seen before
/// and gone now is set to zero.
async fn report_depths(state: &AppState, seen: &mut std::collections::HashSet<(String, String)>) {
    let counts = match state.db.reader().acquire().await {
        Ok(mut conn) => store::counts(&mut conn, state.clock.now()).await,
        Err(e) => Err(e),
    };
    match counts {
        Ok(rows) => {
            let mut now_seen = std::collections::HashSet::new();
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

async fn reclaim(state: AppState) {
    let mut seen = std::collections::HashSet::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(reclaim_every(&state)) => {}
            () = state.shutdown.stopping() => return,
        }
        report_depths(&state, &mut seen).await;
        let now = state.clock.now();
        let result = match state.db.writer().acquire().await {
            Ok(mut conn) => store::reclaim(&mut conn, now).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(jobs = n, "jobs of stopped workers reclaimed");
                state.workers.wake();
            }
            Err(e) => tracing::warn!(error = %e, "cannot reclaim expired jobs"),
        }
    }
}
