//! The Redis connection shared by the scale-out engines (cache L2, bus,
//! rate limits, presence): a command pool that reconnects on its own, the
//! key prefix that keeps deployments sharing a server apart, and the rule
//! that Redis never makes a request wait: every command goes through
//! [`Redis::call`], which refuses at once while the connection is down or
//! the circuit is open, and gives up after `redis.timeout` otherwise. Each
//! caller has its fallback (the in-process limiter, a cache miss read from
//! the database, a heartbeat skipped).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use fred::error::{Error as FredError, ErrorKind};
use fred::prelude::{Builder, Client, ClientLike, Config as FredConfig, Pool, ReconnectPolicy};

use crate::breaker::Breaker;
use crate::config::{Dsn, RedisConfig, var_for_key};

/// Timeouts or lost connections in a row that open the circuit.
const BREAKER_THRESHOLD: u32 = 3;
/// How long an open circuit refuses calls before one probe goes out.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
#[error("{key}: cannot connect to {target}: {source}")]
pub struct RedisError {
    key: String,
    target: String,
    source: fred::error::Error,
}

/// A connected Redis, cheap to clone.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    builder: Builder,
    prefix: String,
    breaker: Arc<Breaker>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Redis {
    /// Connects, failing if the server does not answer now.
    pub async fn connect(url: &Dsn, config: &RedisConfig) -> Result<Self, RedisError> {
        let fail = |source| RedisError {
            key: var_for_key("redis.url"),
            target: url.masked(),
            source,
        };
        let fred_config = FredConfig::from_url(url.expose()).map_err(fail)?;
        let mut builder = Builder::from_config(fred_config);
        builder
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(5);
                c.internal_command_timeout = Duration::from_secs(5);
                // A command caught by a dropped connection is not written
                // again: the caller's fallback is quicker than a reconnect.
                c.max_command_attempts = 1;
            })
            .with_performance_config(|p| {
                p.default_command_timeout = config.timeout.0;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
        let size = match config.pool_size {
            0 => std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, 8),
            n => n,
        };
        let pool = builder.build_pool(size).map_err(fail)?;
        pool.init().await.map_err(fail)?;
        Ok(Self {
            pool,
            builder,
            prefix: config.key_prefix.clone(),
            breaker: Arc::new(Breaker::new("redis", BREAKER_THRESHOLD, BREAKER_COOLDOWN)),
        })
    }

    /// Runs one command, or fails at once if Redis is away: the pool has
    /// no live connection, or the circuit is open after repeated timeouts.
    pub async fn call<T, F, Fut>(&self, command: F) -> Result<T, FredError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, FredError>>,
    {
        if !self.breaker.allow() {
            return Err(unavailable("circuit open after repeated failures"));
        }
        let client = self.pool.next_connected();
        if !client.is_connected() {
            self.breaker.failure();
            return Err(unavailable("not connected"));
        }
        let result = command(client.clone()).await;
        match &result {
            Err(e) if is_outage(e) => self.breaker.failure(),
            _ => self.breaker.success(),
        }
        result
    }

    /// The command pool itself, past the circuit breaker: for tests that
    /// look at what plaza stored.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Whether commands are refused right now.
    pub fn is_down(&self) -> bool {
        !self.pool.next_connected().is_connected() || self.breaker.is_open()
    }

    /// A builder for extra connections (the bus's subscriber).
    pub(crate) fn builder(&self) -> &Builder {
        &self.builder
    }

    /// `prefix` + `name`: every key and channel plaza uses goes through this.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub async fn ping(&self) -> Result<(), FredError> {
        self.call(|c| async move { c.ping::<()>(None).await }).await
    }

    /// The command pool, for shutting down.
    pub async fn quit(&self) {
        let _ = self.pool.quit().await;
    }
}

fn unavailable(why: &str) -> FredError {
    FredError::new(ErrorKind::IO, format!("Redis is unavailable: {why}"))
}

/// Errors that say Redis is away, as opposed to a command it refused.
fn is_outage(e: &FredError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::IO | ErrorKind::Timeout | ErrorKind::Canceled | ErrorKind::Backpressure
    )
}

#[cfg(test)]
mod tests;
