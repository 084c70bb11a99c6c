//! Load generators for the benchmarks in bench/:
//! - `plaza-bench load URL`: GETs with `connections` requests in flight.
//! - `plaza-bench auth URL --mode login|refresh`: signs accounts up, then
//!   measures sign-ins or token refreshes per second.
//! - `plaza-bench rss PID`: resident memory of a process.
//! - `plaza-bench jobs --jobs N --workers W`: the job queue in process, on
//!   the database `PLAZA_DATABASE_URL` names (bench/jobs.sh).
//! - `plaza-bench export --url amqp://…|nats://…`: event export to a broker,
//!   in process (bench/export.sh).
//! - `plaza-bench stats BASE`: `GET /api/user/stats` per second (bench/meditation.sh).
//! - `plaza-bench payments BASE --stripe-port P --webhook-secret S`: Stripe
//!   webhooks settled per second, this process playing Stripe (bench/payments.sh).
//! - `plaza-bench ws-idle|ws-fanout|ws-dm BASE …`: WebSocket memory per
//!   idle socket, fan-out to one group, direct messages (bench/ws.sh).
//!
//! Each prints one line of figures per measurement.

mod coach;
mod drive;
mod export;
mod graphql;
mod jobs;
mod payments;
mod rollup;
mod search;
mod stats;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use drive::{Step, drive};

#[derive(Parser)]
#[command(name = "plaza-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuthMode {
    Login,
    Refresh,
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
    /// Sign-ins or refreshes against a plaza at BASE (http://host:port); its
    /// auth rate limit must be off or high.
    Auth {
        base: String,
        #[arg(long, value_enum)]
        mode: AuthMode,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Print a process's resident memory in MiB.
    Rss { pid: u32 },
    /// No-op jobs through plaza's queue, in process.
    Jobs {
        #[arg(long, default_value_t = 20000)]
        jobs: usize,
        /// Workers on the queue.
        #[arg(long, default_value_t = 8)]
        workers: usize,
        /// Jobs enqueued per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Jobs enqueued per second; 0 enqueues as fast as it can.
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
        /// Enqueue every job before the workers start.
        #[arg(long)]
        preload: bool,
    },
    /// Events exported to a broker by plaza's exporter, in process.
    Export {
        #[arg(long, default_value_t = 50000)]
        events: usize,
        /// amqp://… (RabbitMQ) or nats://… (NATS JetStream).
        #[arg(long)]
        url: String,
    },
    /// The meditation roll-up over N finished sessions, in process.
    Rollup {
        #[arg(long, default_value_t = 1_000_000)]
        sessions: i64,
    },
    /// `GET /api/user/stats` per second, served from the cache.
    Stats {
        base: String,
        /// Accounts read, each with three finished sessions.
        #[arg(long, default_value_t = 100)]
        users: usize,
        #[arg(long, default_value_t = 32)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Writes N open projects into plaza's database (SQLite in DATA_DIR, or
    /// PLAZA_DATABASE_URL), migrated first.
    SeedProjects {
        #[arg(long)]
        data_dir: std::path::PathBuf,
        #[arg(long, default_value_t = 100_000)]
        projects: usize,
    },
    /// `GET /api/projects` per second: full-text queries, then browsing.
    Search {
        base: String,
        #[arg(long, default_value_t = 32)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Stripe payments settled per second: webhook in, ledger entry
    /// committed. This process serves a fake Stripe on `stripe_port`.
    Payments {
        base: String,
        #[arg(long)]
        stripe_port: u16,
        /// The `whsec_…` plaza verifies webhooks with.
        #[arg(long)]
        webhook_secret: String,
        #[arg(long, default_value_t = 5000)]
        payments: usize,
        /// Payers the payments are spread over.
        #[arg(long, default_value_t = 50)]
        users: usize,
        #[arg(long, default_value_t = 16)]
        connections: usize,
    },
    /// The AI coach: `POST /api/ai/enhanced-chat` answers per second with
    /// a fake model answering in `model_ms`, and queue wait per priority.
    Coach {
        base: String,
        #[arg(long)]
        model_port: u16,
        #[arg(long, default_value_t = 200)]
        model_ms: u64,
        #[arg(long, default_value_t = 200)]
        users: usize,
        /// Requests in flight, one level after another.
        #[arg(long, value_delimiter = ',', default_value = "50,200")]
        in_flight: Vec<usize>,
        /// Per level.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The server's process, for its CPU time per level.
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Server memory per idle authenticated WebSocket (RSS of PID).
    WsIdle {
        base: String,
        #[arg(long)]
        pid: u32,
        /// Socket counts to measure, e.g. 10000,19000.
        #[arg(long, value_delimiter = ',', default_value = "10000")]
        sockets: Vec<usize>,
        /// Accounts the sockets are spread over.
        #[arg(long, default_value_t = 100)]
        users: usize,
    },
    /// One group with every member online; messages at each rate.
    WsFanout {
        base: String,
        #[arg(long, default_value_t = 1000)]
        members: usize,
        /// Members that send, in turn.
        #[arg(long, default_value_t = 8)]
        senders: usize,
        /// Messages per second, e.g. 10,100,200.
        #[arg(long, value_delimiter = ',', default_value = "10")]
        rates: Vec<f64>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Receivers subscribe over GraphQL (`messageAdded`) instead of /ws.
        #[arg(long)]
        graphql: bool,
    },
    /// `sendMessage` over GraphQL against `POST /api/chats/{id}/messages`,
    /// alternating rounds at each rate; latency and the server's CPU per send.
    GraphqlSend {
        base: String,
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value_t = 50)]
        pairs: usize,
        #[arg(long, value_delimiter = ',', default_value = "200,500")]
        rates: Vec<f64>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Direct chats between pairs; total messages per second at each rate.
    WsDm {
        base: String,
        #[arg(long, default_value_t = 100)]
        pairs: usize,
        #[arg(long, value_delimiter = ',', default_value = "2000")]
        rates: Vec<f64>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

fn main() -> anyhow::Result<()> {
    // reqwest here is built without a TLS provider of its own; use plaza's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match Cli::parse().command {
        Command::Load {
            url,
            connections,
            seconds,
        } => runtime.block_on(load(url, connections, Duration::from_secs(seconds))),
        Command::Auth {
            base,
            mode,
            connections,
            seconds,
        } => runtime.block_on(auth(base, mode, connections, Duration::from_secs(seconds))),
        Command::WsIdle {
            base,
            pid,
            sockets,
            users,
        } => runtime.block_on(ws::idle(base, pid, sockets, users)),
        Command::WsFanout {
            base,
            members,
            senders,
            rates,
            seconds,
            graphql,
        } => runtime.block_on(ws::fanout(base, members, senders, rates, seconds, graphql)),
        Command::GraphqlSend {
            base,
            pid,
            pairs,
            rates,
            seconds,
            rounds,
        } => runtime.block_on(graphql::send(base, pid, pairs, rates, seconds, rounds)),
        Command::WsDm {
            base,
            pairs,
            rates,
            seconds,
        } => runtime.block_on(ws::dm(base, pairs, rates, seconds)),
        Command::Jobs {
            jobs,
            workers,
            batch,
            rate,
            preload,
        } => runtime.block_on(jobs::run(jobs, workers, batch, rate, preload)),
        Command::Export { events, url } => runtime.block_on(export::run(events, url)),
        Command::Rollup { sessions } => runtime.block_on(rollup::run(sessions)),
        Command::Stats {
            base,
            users,
            connections,
            seconds,
        } => runtime.block_on(stats::run(
            base,
            users,
            connections,
            Duration::from_secs(seconds),
        )),
        Command::SeedProjects { data_dir, projects } => {
            runtime.block_on(search::seed(data_dir, projects))
        }
        Command::Search {
            base,
            connections,
            seconds,
        } => runtime.block_on(search::run(base, connections, Duration::from_secs(seconds))),
        Command::Payments {
            base,
            stripe_port,
            webhook_secret,
            payments,
            users,
            connections,
        } => runtime.block_on(payments::run(
            base,
            stripe_port,
            webhook_secret,
            payments,
            users,
            connections,
        )),
        Command::Coach {
            base,
            model_port,
            model_ms,
            users,
            in_flight,
            seconds,
            pid,
        } => runtime.block_on(coach::run(
            base, model_port, model_ms, users, in_flight, seconds, pid,
        )),
        Command::Rss { pid } => {
            println!("{:.1}", rss_mib(pid)?);
            Ok(())
        }
    }
}

/// plaza's state in this process on the database `PLAZA_DATABASE_URL`
/// names (SQLite in a fresh temporary directory by default), migrated, with
/// no job workers running; and that directory, to remove afterwards.
async fn in_process(
    tag: &str,
    configure: impl FnOnce(&mut plaza_platform::config::Config),
) -> anyhow::Result<(plaza_app::AppState, std::path::PathBuf)> {
    use plaza_platform::config::{Config, Sources};
    let data = std::env::temp_dir().join(format!("plaza-bench-{tag}-{}", uuid_like()));
    let mut config = Config::load(Sources::from_process(None, Default::default()))?;
    config.data_dir = data.clone();
    config.log.files = false;
    config.jobs.run = false;
    configure(&mut config);
    let state = plaza_app::AppState::connect(
        config,
        std::sync::Arc::new(plaza_core::SystemClock),
        plaza_app::app::hooks(),
    )
    .await?;
    plaza_platform::db::migrate::up(
        &state.db,
        plaza_app::MIGRATIONS,
        plaza_core::Clock::now(&*state.clock),
    )
    .await?;
    Ok((state, data))
}

/// The server's user + system CPU time so far, in clock ticks.
pub(crate) fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after ")".
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unreadable /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let utime: u64 = fields
        .get(11)
        .ok_or_else(|| anyhow::anyhow!("no utime"))?
        .parse()?;
    let stime: u64 = fields
        .get(12)
        .ok_or_else(|| anyhow::anyhow!("no stime"))?
        .parse()?;
    Ok(utime + stime)
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

fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?)
}

async fn load(url: String, connections: usize, duration: Duration) -> anyhow::Result<()> {
    let client = client(connections)?;
    let url = Arc::new(url);
    let report = drive(connections, duration, |_| {
        let (client, url) = (client.clone(), url.clone());
        Box::new(move || -> Step {
            let (client, url) = (client.clone(), url.clone());
            Box::pin(async move {
                match client.get(url.as_str()).send().await {
                    Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                    Err(_) => false,
                }
            })
        })
    })
    .await?;
    println!("{report}");
    Ok(())
}

const PASSWORD: &str = "benchmark password 1";

/// Signs `email` up with [`PASSWORD`]; the tokens and user plaza answered.
async fn sign_up(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<Value> {
    let res = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(
        res.status().as_u16() == 201,
        "sign-up failed: {}",
        res.status()
    );
    Ok(res.json().await?)
}

async fn auth(
    base: String,
    mode: AuthMode,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<()> {
    let client = client(connections)?;
    let run = uuid_like();
    // One account per connection, signed up before measuring.
    let mut refresh_tokens = Vec::with_capacity(connections);
    for i in 0..connections {
        let body = sign_up(&client, &base, &format!("bench-{run}-{i}@example.com")).await?;
        refresh_tokens.push(
            body["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let base = Arc::new(base);
    let report = drive(connections, duration, |i| {
        let (client, base) = (client.clone(), base.clone());
        let email = Arc::new(format!("bench-{run}-{i}@example.com"));
        let token = Arc::new(Mutex::new(refresh_tokens[i].clone()));
        Box::new(move || -> Step {
            let (client, base, email, token) =
                (client.clone(), base.clone(), email.clone(), token.clone());
            Box::pin(async move {
                match mode {
                    AuthMode::Login => {
                        let res = client
                            .post(format!("{base}/api/auth/login"))
                            .json(&json!({"email": *email, "password": PASSWORD}))
                            .send()
                            .await;
                        match res {
                            Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                            _ => false,
                        }
                    }
                    AuthMode::Refresh => {
                        let mut held = token.lock().await;
                        let res = client
                            .post(format!("{base}/api/auth/refresh"))
                            .json(&json!({"refresh_token": *held}))
                            .send()
                            .await;
                        let Ok(res) = res else { return false };
                        if !res.status().is_success() {
                            return false;
                        }
                        match res.json::<Value>().await {
                            Ok(body) => {
                                *held = body["refresh_token"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned();
                                true
                            }
                            Err(_) => false,
                        }
                    }
                }
            })
        })
    })
    .await?;
    println!("{report}");
    Ok(())
}

/// A per-run tag so repeated runs against one database do not collide.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}")
}
