//! The cache port. In-process (moka) by default; with Redis, moka in front
//! of Redis, and every write or delete invalidates the other nodes' copies
//! through the bus. A cache never fails a request: when Redis is away, reads
//! miss and writes are skipped, and both are logged and counted.

mod layered;
mod memory;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use layered::LayeredCache;
pub use memory::MemoryCache;

/// What a cache knows about a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Hit(Bytes),
    Miss,
    /// The shared store could not be asked (Redis is away): a caller for
    /// whom a wrong miss is unsafe (a revocation) asks the database.
    Unknown,
}

#[async_trait::async_trait]
pub trait Cache: Send + Sync + std::fmt::Debug {
    async fn get(&self, key: &str) -> Option<Bytes> {
        match self.lookup(key).await {
            Lookup::Hit(value) => Some(value),
            Lookup::Miss | Lookup::Unknown => None,
        }
    }
    async fn lookup(&self, key: &str) -> Lookup;
    async fn set(&self, key: &str, value: Bytes, ttl: Duration);
    /// Removes `key` here and on every other node.
    async fn delete(&self, key: &str);
}

pub type SharedCache = Arc<dyn Cache>;

/// JSON values over any cache.
#[async_trait::async_trait]
pub trait CacheExt: Cache {
    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let bytes = self.get(key).await?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                // A value from an older version: treat as a miss.
                tracing::debug!(key, error = %e, "cached value no longer decodes");
                None
            }
        }
    }

    async fn set_json<T: Serialize + Sync>(&self, key: &str, value: &T, ttl: Duration) {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.set(key, Bytes::from(bytes), ttl).await,
            Err(e) => tracing::warn!(key, error = %e, "cannot encode a value for the cache"),
        }
    }
}

impl<C: Cache + ?Sized> CacheExt for C {}

fn record(outcome: &'static str) {
    metrics::counter!("plaza_cache_requests_total", "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests;
