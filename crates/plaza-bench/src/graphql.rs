//! Issue 16's benchmark: `sendMessage` over GraphQL against
//! `POST /api/chats/{id}/messages` at the same open-loop rate (latency, and
//! the server's CPU per request from /proc), in alternating rounds so
//! both see the same database size and machine state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::ws::{User, users};

/// How a send reaches plaza.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Rest,
    Graphql,
}

/// Clock ticks per second (USER_HZ); 100 on Linux.
const TICKS: f64 = 100.0;

/// One round: `rate` sends a second for `seconds`, each from a random
/// sender to its direct chat; p50/p99 latency and CPU µs per send.
async fn round(
    base: &str,
    pid: u32,
    via: Via,
    senders: &[(User, String)],
    rate: f64,
    seconds: u64,
) -> anyhow::Result<(f64, f64, f64, usize, usize)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(0usize));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + Duration::from_secs(seconds);
    let cpu_before = crate::cpu_ticks(pid)?;
    let mut tasks = Vec::new();
    let mut n = 0usize;
    while Instant::now() < end {
        tick.tick().await;
        let (user, chat) = &senders[n % senders.len()];
        n += 1;
        let req = match via {
            Via::Rest => client
                .post(format!("{base}/api/chats/{chat}/messages"))
                .json(&json!({"content": format!("bench {n}")})),
            Via::Graphql => client.post(format!("{base}/graphql")).json(&json!({
                "query": "mutation($c: ID!, $t: String!) { sendMessage(chatId: $c, content: $t) { id seq } }",
                "variables": {"c": chat, "t": format!("bench {n}")},
            })),
        }
        .bearer_auth(&user.token);
        let (latencies, failures) = (latencies.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let ok = match req.send().await {
                Ok(res) if res.status().is_success() => match via {
                    Via::Rest => res.bytes().await.is_ok(),
                    Via::Graphql => res
                        .bytes()
                        .await
                        .is_ok_and(|b| !b.windows(9).any(|w| w == b"\"errors\":")),
                },
                _ => false,
            };
            if ok {
                let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                lock(&latencies).push(us);
            } else {
                *lock(&failures) += 1;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let cpu = (crate::cpu_ticks(pid)? - cpu_before) as f64 / TICKS;
    let mut all = std::mem::take(&mut *lock(&latencies));
    all.sort_unstable();
    let at = |p: f64| {
        all.get(((all.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(f64::NAN, |us| *us as f64 / 1000.0)
    };
    let failed = *lock(&failures);
    Ok((at(0.5), at(0.99), cpu * 1e6 / n as f64, n, failed))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `pairs` direct chats; at each of `rates`, `rounds` alternating rounds of
/// REST and GraphQL sends, then the medians.
pub async fn send(
    base: String,
    pid: u32,
    pairs: usize,
    rates: Vec<f64>,
    seconds: u64,
    rounds: usize,
) -> anyhow::Result<()> {
    let accounts = users(&base, pairs * 2, 16).await?;
    let client = reqwest::Client::new();
    let mut senders = Vec::with_capacity(pairs);
    let mut accounts = accounts.into_iter();
    while let (Some(a), Some(b)) = (accounts.next(), accounts.next()) {
        let res = client
            .post(format!("{base}/api/chats"))
            .bearer_auth(&a.token)
            .json(&json!({"type": "direct", "member_ids": [b.id]}))
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "create chat: {}", res.status());
        let chat: serde_json::Value = res.json().await?;
        let id = chat["id"].as_str().unwrap_or_default().to_owned();
        senders.push((a, id));
    }
    // Warm both paths.
    round(&base, pid, Via::Rest, &senders, 200.0, 1).await?;
    round(&base, pid, Via::Graphql, &senders, 200.0, 1).await?;
    for rate in rates {
        let mut results = [Vec::new(), Vec::new()];
        for _ in 0..rounds {
            for (i, via) in [Via::Rest, Via::Graphql].into_iter().enumerate() {
                let r = round(&base, pid, via, &senders, rate, seconds).await?;
                results[i].push(r);
            }
        }
        let median = |v: &mut Vec<(f64, f64, f64, usize, usize)>,
                      f: fn(&(f64, f64, f64, usize, usize)) -> f64| {
            let mut xs: Vec<f64> = v.iter().map(f).collect();
            xs.sort_by(f64::total_cmp);
            xs[xs.len() / 2]
        };
        let [rest, graphql] = &mut results;
        let (rp50, rp99, rcpu) = (
            median(rest, |r| r.0),
            median(rest, |r| r.1),
            median(rest, |r| r.2),
        );
        let (gp50, gp99, gcpu) = (
            median(graphql, |r| r.0),
            median(graphql, |r| r.1),
            median(graphql, |r| r.2),
        );
        let failed: usize = rest.iter().chain(graphql.iter()).map(|r| r.4).sum();
        println!(
            "send rate={rate}/s rounds={rounds}x{seconds}s | REST p50={rp50:.2}ms p99={rp99:.2}ms cpu={rcpu:.0}us/req | GraphQL p50={gp50:.2}ms p99={gp99:.2}ms cpu={gcpu:.0}us/req | GraphQL/REST cpu={:.2}x p50={:.2}x overhead={:.0}us/req | failed={failed}",
            gcpu / rcpu,
            gp50 / rp50,
            gcpu - rcpu,
        );
    }
    Ok(())
}
