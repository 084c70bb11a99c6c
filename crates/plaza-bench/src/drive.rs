//! Keeps `connections` workers stepping for a warm-up second and then for
//! `duration`, and summarises the measured steps.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One request; `true` when it succeeded.
pub type Step = Pin<Box<dyn Future<Output = bool> + Send>>;
pub type Worker = Box<dyn FnMut() -> Step + Send>;

pub async fn drive(
    connections: usize,
    duration: Duration,
    mut worker: impl FnMut(usize) -> Worker,
) -> anyhow::Result<String> {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let mut step = worker(i);
        let (measuring, stop) = (measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 14);
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let ok = step().await;
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        latencies.push(started.elapsed());
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);

    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    all.sort_unstable();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1));
        all.get(i).copied().unwrap_or_default().as_secs_f64() * 1000.0
    };
    Ok(format!(
        "requests={} errors={} seconds={:.1} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        all.len(),
        errors,
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    ))
}
