//! Payments settled per second against a running plaza (bench/payments.sh):
//! this process plays Stripe — a fake of its Checkout Session endpoint on
//! `stripe_port`, which plaza is configured to call — makes `payments`
//! Stripe payments over plaza's API, then delivers each one's signed
//! `checkout.session.completed` webhook with `connections` in flight. A
//! webhook's answer comes after its unit of work committed (event kept,
//! payment moved, ledger entry, transaction, outbox), so each answered
//! `applied` is one payment settled. The wallets are read back at the end
//! to show every one was credited once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::routing::post;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

const AMOUNT: i64 = 1250;

async fn fake_stripe(port: u16) -> anyhow::Result<()> {
    async fn create(axum::Form(form): axum::Form<HashMap<String, String>>) -> axum::Json<Value> {
        let payment = form
            .get("metadata[payment_id]")
            .cloned()
            .unwrap_or_default();
        let id = format!("cs_bench_{}", payment.replace('-', ""));
        axum::Json(json!({
            "id": id, "object": "checkout.session", "mode": "payment",
            "url": format!("https://checkout.stripe.com/c/pay/{id}"),
            "payment_status": "unpaid", "status": "open",
        }))
    }
    let app = axum::Router::new().route("/v1/checkout/sessions", post(create));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}

/// A signed `checkout.session.completed` for `payment`, paid in full.
fn webhook(payment: &Value, secret: &str) -> (String, String) {
    let session = json!({
        "id": payment["provider_ref"], "object": "checkout.session",
        "metadata": {"payment_id": payment["id"]}, "client_reference_id": payment["id"],
        "payment_status": "paid", "status": "complete", "amount_total": AMOUNT,
        "currency": "usd", "payment_intent": "pi_bench",
    });
    let body = json!({
        "id": format!("evt_{}", payment["id"].as_str().unwrap_or_default()), "object": "event",
        "type": "checkout.session.completed", "data": {"object": session},
    })
    .to_string();
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(format!("{at}.{body}").as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (body, format!("t={at},v1={sig}"))
}

/// Runs `work(i)` for i in 0..n with `connections` in flight; each one's
/// latency, and the wall time.
async fn each<F, Fut>(
    n: usize,
    connections: usize,
    work: F,
) -> anyhow::Result<(Vec<Duration>, Duration)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (next, work) = (next.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let t = Instant::now();
                work(i).await?;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    Ok((all, elapsed))
}

fn summary(what: &str, latencies: &[Duration], elapsed: Duration) -> String {
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).copied().unwrap_or_default().as_secs_f64() * 1000.0
    };
    format!(
        "{what}={} seconds={:.2} per_second={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    )
}

pub async fn run(
    base: String,
    stripe_port: u16,
    webhook_secret: String,
    payments: usize,
    users: usize,
    connections: usize,
) -> anyhow::Result<()> {
    fake_stripe(stripe_port).await?;
    let client = crate::client(connections)?;
    let run = crate::uuid_like();
    let mut tokens = Vec::with_capacity(users);
    for i in 0..users {
        let body = crate::sign_up(&client, &base, &format!("pay-{run}-{i}@example.com")).await?;
        tokens.push(body["access_token"].as_str().unwrap_or_default().to_owned());
    }
    let tokens = Arc::new(tokens);

    // Payments asked for (each a row, a transaction, an event and a call
    // to the fake Stripe): not the figure, but printed too.
    let made = Arc::new(std::sync::Mutex::new(vec![Value::Null; payments]));
    let (latencies, elapsed) = {
        let (client, base, tokens, made) =
            (client.clone(), base.clone(), tokens.clone(), made.clone());
        each(payments, connections, move |i| {
            let (client, base, tokens, made) = (client.clone(), base.clone(), tokens.clone(), made.clone());
            async move {
                let body = json!({"amount": AMOUNT, "currency": "USD", "purpose": "top_up", "provider": "stripe"});
                let res = client
                    .post(format!("{base}/api/payments"))
                    .bearer_auth(&tokens[i % tokens.len()])
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(res.status().as_u16() == 201, "a payment answered {}", res.status());
                let answer: Value = res.json().await?;
                if let Ok(mut made) = made.lock() {
                    made[i] = answer["payment"].clone();
                }
                Ok(())
            }
        })
        .await?
    };
    println!("created: {}", summary("payments", &latencies, elapsed));

    let hooks: Vec<(String, String)> = {
        let made = made.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        made.iter().map(|p| webhook(p, &webhook_secret)).collect()
    };
    let hooks = Arc::new(hooks);
    let applied = Arc::new(AtomicUsize::new(0));
    let (latencies, elapsed) = {
        let (client, base, hooks, applied) =
            (client.clone(), base.clone(), hooks.clone(), applied.clone());
        each(payments, connections, move |i| {
            let (client, base, hooks, applied) =
                (client.clone(), base.clone(), hooks.clone(), applied.clone());
            async move {
                let (body, sig) = &hooks[i];
                let res = client
                    .post(format!("{base}/api/payments/webhooks/stripe"))
                    .header("stripe-signature", sig)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                anyhow::ensure!(
                    res.status().is_success(),
                    "a webhook answered {}",
                    res.status()
                );
                let answer: Value = res.json().await?;
                if answer["outcome"] == "applied" {
                    applied.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
        })
        .await?
    };
    println!(
        "settled: {} applied={}",
        summary("webhooks", &latencies, elapsed),
        applied.load(Ordering::Relaxed)
    );

    let mut credited = 0;
    for token in tokens.iter() {
        let wallet: Value = client
            .get(format!("{base}/api/wallet"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        credited += wallet["balances"][0]["amount"].as_i64().unwrap_or(0);
    }
    println!(
        "check: wallets hold {credited} minor units = {} payments of {AMOUNT}",
        credited / AMOUNT
    );
    anyhow::ensure!(
        credited == AMOUNT * payments as i64,
        "credited {credited}, expected {}",
        AMOUNT * payments as i64
    );
    Ok(())
}
