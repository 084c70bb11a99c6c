//! `plaza-bench load`: keeps `connections` requests in flight against one
//! URL for a while and reports throughput and latency percentiles.
//! `plaza-bench rss PID`: resident memory of a process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "plaza-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive GET requests at a URL.
    Load {
        url: String,
        /// Requests kept in flight.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds to measure (after a 1s warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Print a process's resident memory in MiB.
    Rss { pid: u32 },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Load {
            url,
            connections,
            seconds,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(load(url, connections, Duration::from_secs(seconds))),
        Command::Rss { pid } => {
            println!("{:.1}", rss_mib(pid)?);
            Ok(())
        }
    }
}

fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().parse())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))??;
    Ok(kib / 1024.0)
}

async fn load(url: String, connections: usize, duration: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let url = Arc::new(url);
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (client, url, measuring, stop) =
            (client.clone(), url.clone(), measuring.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let ok = match client.get(url.as_str()).send().await {
                    Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                    Err(_) => false,
                };
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
    for w in workers {
        let (l, e) = w.await?;
        all.extend(l);
        errors += e;
    }
    all.sort_unstable();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1));
        all.get(i).copied().unwrap_or_default().as_secs_f64() * 1000.0
    };
    println!(
        "requests={} errors={} seconds={:.1} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        all.len(),
        errors,
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    Ok(())
}
