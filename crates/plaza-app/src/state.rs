//! `AppState`: the ports every handler reaches, picked from configuration.
//! Embedded engines when nothing is configured; PostgreSQL and Redis when
//! their URLs are set.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use plaza_core::SharedClock;
use plaza_platform::bus::{MemoryBus, RedisBus, SharedBus};
use plaza_platform::cache::{LayeredCache, MemoryCache, SharedCache};
use plaza_platform::config::{Config, var_for_key};
use plaza_platform::cpu::CpuPool;
use plaza_platform::db::Db;
use plaza_platform::mail::{self, SharedMailer};
use plaza_platform::presence::{MemoryPresence, RedisPresence, SharedPresence};
use plaza_platform::ratelimit::{MemoryLimiter, RedisLimiter, SharedLimiter};
use plaza_platform::redis::Redis;
use plaza_platform::shutdown::Shutdown;
use plaza_platform::storage::Storage;

use crate::http::auth::AuthKit;
use crate::users::password::Passwords;

/// The ports and settings handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub config: Config,
    pub db: Db,
    pub redis: Option<Redis>,
    pub cache: SharedCache,
    pub bus: SharedBus,
    pub limiter: SharedLimiter,
    pub clock: SharedClock,
    pub passwords: Passwords,
    pub auth: AuthKit,
    pub mailer: SharedMailer,
    pub storage: Storage,
    /// Who is online (connections' heartbeats), shared across nodes with Redis.
    pub presence: SharedPresence,
    /// This node's WebSocket connections and the chats they receive.
    pub hub: crate::realtime::Hub,
    /// This node's group meditation sockets and their rooms.
    pub rooms: crate::meditation::Rooms,
    /// Publishes the outbox's events; [`AppState::start`] runs it.
    pub relay: crate::events::Relay,
    /// Wakes this node's job workers.
    pub workers: crate::jobs::Workers,
    /// For calls to outside services (OAuth providers).
    pub http: reqwest::Client,
    /// Threads for CPU-heavy work (hashing, image decoding), one per core.
    pub cpu: CpuPool,
    pub shutdown: Shutdown,
    pub started: Instant,
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    /// Connects every backing service the configuration names. Fails, naming
    /// the setting, if one does not answer.
    pub async fn connect(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        // Install the metrics recorder before anything records, and the one
        // TLS backend before any TLS client is built.
        plaza_platform::telemetry::metrics_handle();
        plaza_platform::tls::install();
        let db = Db::connect(&config).await?;
        let memory = MemoryCache::new(config.cache.memory_capacity.0, clock.clone());
        let (redis, cache, bus, limiter): (_, SharedCache, SharedBus, SharedLimiter) = match &config
            .redis
            .url
        {
            None => (
                None,
                Arc::new(memory),
                Arc::new(MemoryBus::new()),
                Arc::new(MemoryLimiter::new(clock.clone())),
            ),
            Some(url) => {
                let redis = Redis::connect(url, &config.redis).await?;
                let named = |e: &dyn std::fmt::Display| {
                    anyhow::anyhow!("{}: {e}", var_for_key("redis.url"))
                };
                let bus: SharedBus =
                    Arc::new(RedisBus::connect(&redis).await.map_err(|e| named(&e))?);
                let cache =
                    LayeredCache::new(memory, redis.clone(), bus.clone(), config.cache.local_ttl.0)
                        .await
                        .map_err(|e| named(&e))?;
                let limiter = RedisLimiter::new(redis.clone())
                    .await
                    .map_err(|e| named(&format!("cannot load the rate-limit script: {e}")))?;
                (Some(redis), Arc::new(cache), bus, Arc::new(limiter))
            }
        };
        let mailer = mail::from_config(&config)
            .map_err(|e| anyhow::anyhow!("{}: {e}", var_for_key("mail.smtp_url")))?;
        let storage = Storage::from_config(&config)
            .map_err(|e| anyhow::anyhow!("{}: {e}", var_for_key("storage.s3_bucket")))?;
        let cpu = CpuPool::for_machine("plaza-cpu")?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("plaza/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let presence: SharedPresence = match &redis {
            Some(r) => Arc::new(RedisPresence::new(r.clone(), clock.clone())),
            None => Arc::new(MemoryPresence::new(clock.clone())),
        };
        Ok(Self(Arc::new(Services {
            presence,
            hub: crate::realtime::Hub::new(),
            rooms: crate::meditation::Rooms::new(),
            relay: crate::events::Relay::new(plaza_platform::export::from_config(
                &config.export,
                config.features.event_export,
            )),
            workers: crate::jobs::Workers::new(),
            http,
            mailer,
            storage,
            passwords: Passwords::new(cpu.clone()),
            cpu,
            auth: AuthKit::new(cache.clone(), config.auth.access_ttl.0),
            shutdown: Shutdown::new(),
            config,
            db,
            redis,
            cache,
            bus,
            limiter,
            clock,
            started: Instant::now(),
        })))
    }

    /// Starts the background work of a serving node — the outbox relay,
    /// and job workers on every queue unless `jobs.run` is off — once the
    /// database is migrated.
    pub fn start(&self) {
        crate::events::Relay::spawn(self);
        if self.config.jobs.run {
            crate::jobs::start(self, &crate::jobs::QUEUES);
        }
    }

    /// Releases connections (at shutdown).
    pub async fn close(&self) {
        self.db.close().await;
        if let Some(redis) = &self.redis {
            redis.quit().await;
        }
    }
}
