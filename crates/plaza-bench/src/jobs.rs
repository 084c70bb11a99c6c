//! The job queue's throughput, in process: plaza's own store and runner on
//! the configured database (SQLite in a fresh directory, or PostgreSQL
//! from `PLAZA_DATABASE_URL`), no-op jobs enqueued in batches while the
//! workers run them. Each job measures its own wait, from its enqueue to
//! its start, on one clock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use plaza_app::AppState;
use plaza_app::jobs::{JobKind, Registry};
use serde::{Deserialize, Serialize};

static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
static WAITS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static DONE: AtomicUsize = AtomicUsize::new(0);

fn micros() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

#[derive(Serialize, Deserialize)]
struct NoOp {
    enqueued_us: u64,
}

#[async_trait::async_trait]
impl JobKind for NoOp {
    type Context = AppState;
    const KIND: &'static str = "bench.noop";
    const QUEUE: &'static str = "bench";

    async fn run(&self, _: &AppState) -> anyhow::Result<()> {
        let wait = micros().saturating_sub(self.enqueued_us);
        WAITS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(u32::try_from(wait).unwrap_or(u32::MAX));
        DONE.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// `rate` jobs per second (0: as fast as they can be enqueued), in
/// transactions of `batch`.
/// With `preload`, every job is enqueued before the workers start, so the
/// run rate is the queue's alone.
pub async fn run(
    jobs: usize,
    concurrency: usize,
    batch: usize,
    rate: f64,
    preload: bool,
) -> anyhow::Result<()> {
    let (state, data) = crate::in_process("jobs", |_| {}).await?;
    let start_workers = || {
        let mut registry = Registry::new();
        registry.register::<NoOp>();
        plaza_platform::jobs::spawn(&state, registry, &[("bench", concurrency)]);
    };
    if !preload {
        start_workers();
    }
    micros();
    let started = Instant::now();
    let mut enqueued = 0;
    let mut tick = (rate > 0.0).then(|| {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(batch as f64 / rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        tick
    });
    while enqueued < jobs {
        if let Some(tick) = tick.as_mut() {
            tick.tick().await;
        }
        let n = batch.min(jobs - enqueued);
        let mut work = state.work().await?;
        for _ in 0..n {
            work.enqueue(&NoOp {
                enqueued_us: micros(),
            })
            .await?;
        }
        work.commit().await?;
        enqueued += n;
    }
    let enqueue_time = started.elapsed();
    let started = if preload {
        start_workers();
        Instant::now()
    } else {
        started
    };
    while DONE.load(Ordering::Relaxed) < jobs {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "jobs did not finish in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let total = started.elapsed();
    let mut waits = std::mem::take(
        &mut *WAITS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    waits.sort_unstable();
    let pct = |p: f64| f64::from(waits[((waits.len() as f64 - 1.0) * p).round() as usize]) / 1000.0;
    println!(
        "jobs={jobs} workers={concurrency} batch={batch} rate={}{} database={} enqueued_per_s={:.0} run_per_s={:.0} wait p50={:.2}ms p99={:.2}ms max={:.2}ms",
        if rate > 0.0 {
            format!("{rate}")
        } else {
            "max".into()
        },
        if preload { " preloaded" } else { "" },
        state.db.backend().name(),
        jobs as f64 / enqueue_time.as_secs_f64(),
        jobs as f64 / total.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
    state.shutdown.halt();
    let _ = std::fs::remove_dir_all(data);
    Ok(())
}
