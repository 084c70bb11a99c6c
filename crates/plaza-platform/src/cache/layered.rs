use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fred::interfaces::KeysInterface;
use fred::types::Expiration;
use serde::{Deserialize, Serialize};

use super::{Cache, Lookup, MemoryCache, record};
use crate::bus::{RecvError, SharedBus};
use crate::redis::Redis;

const INVALIDATE_TOPIC: &str = "cache.invalidate";

#[derive(Serialize, Deserialize)]
struct Invalidation {
    /// The node that changed the key; it keeps its own fresh copy.
    node: String,
    key: String,
}

/// moka in front of Redis. A node keeps what it read from Redis for at most
/// `local_ttl`; what a node writes or deletes is dropped from every other
/// node's memory through the bus.
#[derive(Debug, Clone)]
pub struct LayeredCache {
    local: MemoryCache,
    redis: Redis,
    bus: SharedBus,
    node: Arc<str>,
    local_ttl: Duration,
}

impl LayeredCache {
    /// Starts listening for other nodes' invalidations.
    pub async fn new(
        local: MemoryCache,
        redis: Redis,
        bus: SharedBus,
        local_ttl: Duration,
    ) -> Result<Self, crate::bus::BusError> {
        let cache = Self {
            local,
            redis,
            bus,
            node: Arc::from(uuid::Uuid::now_v7().to_string()),
            local_ttl,
        };
        let mut sub = cache.bus.subscribe(INVALIDATE_TOPIC).await?;
        let listener = cache.clone();
        tokio::spawn(async move {
            loop {
                match sub.recv().await {
                    Ok(m) => {
                        let Ok(inv) = serde_json::from_slice::<Invalidation>(&m.payload) else {
                            continue;
                        };
                        if *inv.node != *listener.node {
                            listener.local.remove(&inv.key).await;
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        // Some invalidations were lost: nothing local can be trusted.
                        tracing::warn!(
                            missed = n,
                            "cache invalidations lagged; clearing local cache"
                        );
                        listener.local.clear();
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        Ok(cache)
    }

    fn redis_key(&self, key: &str) -> String {
        self.redis.key(&format!("cache:{key}"))
    }

    async fn announce(&self, key: &str) {
        let inv = Invalidation {
            node: self.node.to_string(),
            key: key.to_owned(),
        };
        let Ok(payload) = serde_json::to_vec(&inv) else {
            return;
        };
        if let Err(e) = self
            .bus
            .publish(INVALIDATE_TOPIC, Bytes::from(payload))
            .await
        {
            tracing::debug!(key, error = %e, "cannot tell other nodes about a cache change");
        }
    }
}

#[async_trait::async_trait]
impl Cache for LayeredCache {
    async fn lookup(&self, key: &str) -> Lookup {
        if let Some(entry) = self.local.get_entry(key).await {
            record("hit");
            return Lookup::Hit(entry.value);
        }
        let redis_key = self.redis_key(key);
        let fetched: Result<Option<Vec<u8>>, _> = self
            .redis
            .call(|c| async move { c.get(redis_key).await })
            .await;
        match fetched {
            Ok(Some(bytes)) => {
                record("hit_remote");
                let value = Bytes::from(bytes);
                self.local.put(key, value.clone(), self.local_ttl).await;
                Lookup::Hit(value)
            }
            Ok(None) => {
                record("miss");
                Lookup::Miss
            }
            Err(e) => {
                record("error");
                tracing::debug!(key, error = %e, "cache read from Redis failed");
                Lookup::Unknown
            }
        }
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        let millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let (redis_key, bytes) = (self.redis_key(key), value.to_vec());
        let stored: Result<(), _> = self
            .redis
            .call(|c| async move {
                c.set(redis_key, bytes, Some(Expiration::PX(millis)), None, false)
                    .await
            })
            .await;
        match stored {
            Ok(()) => self.local.put(key, value, ttl.min(self.local_ttl)).await,
            Err(e) => {
                record("error");
                tracing::debug!(key, error = %e, "cache write to Redis failed");
                self.local.remove(key).await;
            }
        }
        self.announce(key).await;
    }

    async fn delete(&self, key: &str) {
        self.local.remove(key).await;
        let redis_key = self.redis_key(key);
        let deleted: Result<i64, _> = self
            .redis
            .call(|c| async move { c.del(redis_key).await })
            .await;
        if let Err(e) = deleted {
            record("error");
            tracing::debug!(key, error = %e, "cache delete in Redis failed");
        }
        self.announce(key).await;
    }
}
