//! The Redis connection shared by the scale-out engines (cache L2, bus,
//! rate limits): a command pool that reconnects on its own, and the key
//! prefix that keeps deployments sharing a server apart.

use std::time::Duration;

use fred::prelude::{Builder, ClientLike, Config as FredConfig, Pool, ReconnectPolicy};

use crate::config::{Dsn, RedisConfig, var_for_key};

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
            })
            .with_performance_config(|p| {
                p.default_command_timeout = Duration::from_secs(5);
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
        })
    }

    /// The command pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
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

    pub async fn ping(&self) -> Result<(), fred::error::Error> {
        self.pool.next().ping::<()>(None).await
    }

    pub async fn quit(&self) {
        let _ = self.pool.quit().await;
    }
}
