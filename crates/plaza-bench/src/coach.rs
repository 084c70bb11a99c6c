//! The AI coach end to end (bench/coach.sh): this process plays an
//! OpenAI-compatible model that answers every chat completion after
//! `model_ms`, signs up `users`, and keeps `in_flight` `POST
//! /api/ai/enhanced-chat` requests going for `seconds` at each level — a
//! tenth `high`, six tenths `normal`, three tenths `low`. Each answer is
//! inline (the request waited on the `ai` queue, ran its job, called the
//! model, stored the answer), so answers per second is the coach's
//! throughput; each answer's request says when it was queued and started,
//! which gives the queue wait per priority.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use plaza_core::Timestamp;
use serde_json::{Value, json};

async fn fake_model(port: u16, delay: Duration) -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move || async move {
            tokio::time::sleep(delay).await;
            axum::Json(json!({
                "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_733_000_000,
                "model": "bench-model",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Three sets of ten, then rest."}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 420, "completion_tokens": 12, "total_tokens": 432},
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}

fn priority(i: usize) -> &'static str {
    match i % 10 {
        0 => "high",
        1..=6 => "normal",
        _ => "low",
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().map_or(0.0, ms)
}

pub async fn run(
    base: String,
    model_port: u16,
    model_ms: u64,
    users: usize,
    levels: Vec<usize>,
    seconds: u64,
    pid: Option<u32>,
) -> anyhow::Result<()> {
    fake_model(model_port, Duration::from_millis(model_ms)).await?;
    let top = levels.iter().copied().max().unwrap_or(1);
    let client = crate::client(top)?;
    let run = crate::uuid_like();
    let mut tokens = Vec::with_capacity(users);
    for i in 0..users {
        let body = crate::sign_up(&client, &base, &format!("coach-{run}-{i}@example.com")).await?;
        tokens.push(body["access_token"].as_str().unwrap_or_default().to_owned());
    }
    let tokens = Arc::new(tokens);
    for in_flight in levels {
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let waits: Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>> = Arc::default();
        let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let deferred = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let cpu_before = pid.map(crate::cpu_ticks).transpose()?;
        let mut tasks = Vec::new();
        for worker in 0..in_flight {
            let (client, base, tokens) = (client.clone(), base.clone(), tokens.clone());
            let (latencies, waits) = (latencies.clone(), waits.clone());
            let (failed, deferred) = (failed.clone(), deferred.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = worker;
                while Instant::now() < deadline {
                    let p = priority(i);
                    let t = Instant::now();
                    let res = client
                        .post(format!("{base}/api/ai/enhanced-chat"))
                        .bearer_auth(&tokens[i % tokens.len()])
                        .json(&json!({"message": "How many sets for biceps?", "topic": "workout", "priority": p}))
                        .send()
                        .await;
                    i += in_flight;
                    let answer: Option<Value> = match res {
                        Ok(r) if r.status().as_u16() == 200 => r.json().await.ok(),
                        // Still queued when the inline wait ran out: answered later.
                        Ok(r) if r.status().as_u16() == 202 => {
                            deferred.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            continue;
                        }
                        _ => None,
                    };
                    let Some(answer) = answer else {
                        failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        continue;
                    };
                    let took = t.elapsed();
                    let at = |k: &str| answer["request"][k].as_str().and_then(|s| s.parse::<Timestamp>().ok());
                    if let (Some(created), Some(began)) = (at("created_at"), at("started_at"))
                        && let Ok(mut w) = waits.lock()
                    {
                        w.entry(p).or_default().push(began.duration_since(created));
                    }
                    if let Ok(mut l) = latencies.lock() {
                        l.push(took);
                    }
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let elapsed = started.elapsed();
        let cpu = match (pid, cpu_before) {
            (Some(pid), Some(before)) => {
                let ticks = crate::cpu_ticks(pid)?.saturating_sub(before);
                // Linux counts 100 ticks a second.
                format!(" server_cpu_s={:.2}", ticks as f64 / 100.0)
            }
            _ => String::new(),
        };
        let mut all = latencies
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone();
        all.sort_unstable();
        println!(
            "in_flight={in_flight} answers={} deferred_202={} failed={} seconds={:.1} per_second={:.1} p50_ms={:.1} p99_ms={:.1}{cpu}",
            all.len(),
            deferred.load(std::sync::atomic::Ordering::Relaxed),
            failed.load(std::sync::atomic::Ordering::Relaxed),
            elapsed.as_secs_f64(),
            all.len() as f64 / elapsed.as_secs_f64(),
            pct(&all, 0.50),
            pct(&all, 0.99),
        );
        let waits = waits
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone();
        for (p, mut w) in waits {
            w.sort_unstable();
            println!(
                "  queue wait {p}: n={} p50_ms={:.1} p99_ms={:.1}",
                w.len(),
                pct(&w, 0.50),
                pct(&w, 0.99)
            );
        }
    }
    Ok(())
}
