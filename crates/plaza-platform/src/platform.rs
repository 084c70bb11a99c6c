//! `Platform`: every port a node holds, picked from configuration —
//! embedded engines when nothing is configured, PostgreSQL, Redis and the
//! rest when their URLs are set — and the machinery that runs on them (the
//! outbox relay, the job workers). Knows no domain; the product puts its
//! own runtime beside it.

use std::sync::Arc;
use std::time::Instant;

use plaza_core::SharedClock;

use crate::bus::{MemoryBus, RedisBus, SharedBus};
use crate::cache::{LayeredCache, MemoryCache, SharedCache};
use crate::config::{Config, var_for_key};
use crate::cpu::CpuPool;
use crate::db::Db;
use crate::jobs::Workers;
use crate::mail::{self, SharedMailer};
use crate::outbox::Relay;
use crate::presence::{MemoryPresence, RedisPresence, SharedPresence};
use crate::ratelimit::{MemoryLimiter, RedisLimiter, SharedLimiter};
use crate::redis::Redis;
use crate::shutdown::Shutdown;
use crate::storage::Storage;
use crate::work::Work;

/// The ports and settings a node shares between everything it runs.
pub struct Platform {
    pub config: Config,
    pub db: Db,
    pub redis: Option<Redis>,
    pub cache: SharedCache,
    pub bus: SharedBus,
    pub limiter: SharedLimiter,
    pub clock: SharedClock,
    pub mailer: SharedMailer,
    pub storage: Storage,
    /// Who is online (connections' heartbeats), shared across nodes with Redis.
    pub presence: SharedPresence,
    /// Publishes the outbox's events; [`crate::outbox::spawn`] runs it.
    pub relay: Relay,
    /// Wakes this node's job workers.
    pub workers: Workers,
    /// For calls to outside services (OAuth providers).
    pub http: reqwest::Client,
    /// The OpenAI-compatible model, when one is configured (`ai.provider`).
    pub ai: Option<crate::ai::Client>,
    /// Threads for CPU-heavy work (hashing, image decoding), one per core.
    pub cpu: CpuPool,
    pub shutdown: Shutdown,
    pub started: Instant,
}

/// What the machinery's tasks hold: a cheap handle that reaches the
/// platform (the product's state, in plaza).
pub trait Context: AsRef<Platform> + Clone + Send + Sync + 'static {}

impl<T: AsRef<Platform> + Clone + Send + Sync + 'static> Context for T {}

impl AsRef<Platform> for Platform {
    fn as_ref(&self) -> &Platform {
        self
    }
}

impl Platform {
    /// Connects every backing service the configuration names. Fails,
    /// naming the setting, if one does not answer.
    pub async fn connect(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        // Install the metrics recorder before anything records, and the one
        // TLS backend before any TLS client is built.
        crate::telemetry::metrics_handle();
        crate::tls::install();
        let db = Db::connect(&config).await?;
        let (redis, cache, bus, limiter) = shared_ports(&config, &clock).await?;
        let mailer = mail::from_config(&config)
            .map_err(|e| anyhow::anyhow!("{}: {e}", var_for_key("mail.smtp_url")))?;
        let storage = Storage::from_config(&config)
            .map_err(|e| anyhow::anyhow!("{}: {e}", var_for_key("storage.s3_bucket")))?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("plaza/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let ai = crate::ai::Client::from_config(&config.ai)?;
        let presence: SharedPresence = match &redis {
            Some(r) => Arc::new(RedisPresence::new(r.clone(), clock.clone())),
            None => Arc::new(MemoryPresence::new(clock.clone())),
        };
        Ok(Self {
            presence,
            relay: Relay::new(crate::export::from_config(
                &config.export,
                config.features.event_export,
            )),
            workers: Workers::new(),
            http,
            ai,
            mailer,
            storage,
            cpu: CpuPool::for_machine("plaza-cpu")?,
            shutdown: Shutdown::new(),
            config,
            db,
            redis,
            cache,
            bus,
            limiter,
            clock,
            started: Instant::now(),
        })
    }

    /// A unit of work: a write transaction whose events and jobs wake the
    /// relay and the workers, and whose [`Work::publish`]es go out, only
    /// once it commits.
    pub async fn work(&self) -> Result<Work<'_>, sqlx::Error> {
        Work::begin(self).await
    }

    /// A unit of work of one statement on the writer, without `BEGIN`
    /// (the statement is its own transaction): the same after-commit steps
    /// for the cheapest write.
    pub async fn work_one(&self) -> Result<Work<'_>, sqlx::Error> {
        Work::single(self).await
    }

    /// Releases connections (at shutdown).
    pub async fn close(&self) {
        self.db.close().await;
        if let Some(redis) = &self.redis {
            redis.quit().await;
        }
    }
}

/// The ports nodes share: in-process without Redis, on Redis with it.
async fn shared_ports(
    config: &Config,
    clock: &SharedClock,
) -> anyhow::Result<(Option<Redis>, SharedCache, SharedBus, SharedLimiter)> {
    let memory = MemoryCache::new(config.cache.memory_capacity.0, clock.clone());
    let Some(url) = &config.redis.url else {
        return Ok((
            None,
            Arc::new(memory),
            Arc::new(MemoryBus::new()),
            Arc::new(MemoryLimiter::new(clock.clone())),
        ));
    };
    let redis = Redis::connect(url, &config.redis).await?;
    let named = |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {e}", var_for_key("redis.url"));
    let bus: SharedBus = Arc::new(RedisBus::connect(&redis).await.map_err(|e| named(&e))?);
    let cache = LayeredCache::new(memory, redis.clone(), bus.clone(), config.cache.local_ttl.0)
        .await
        .map_err(|e| named(&e))?;
    let limiter = RedisLimiter::new(redis.clone(), clock.clone())
        .await
        .map_err(|e| named(&format!("cannot load the rate-limit script: {e}")))?;
    Ok((Some(redis), Arc::new(cache), bus, Arc::new(limiter)))
}
