use std::time::Duration;

use fred::interfaces::{KeysInterface, SortedSetsInterface};
use plaza_core::SharedClock;

use super::Presence;
use crate::redis::Redis;

/// Presence shared by every node: `presence:<user>` is a sorted set of
/// connection ids scored by their expiry (ms); the key itself expires with
/// the longest-lived connection. Errors are logged and read as offline.
#[derive(Debug, Clone)]
pub struct RedisPresence {
    redis: Redis,
    clock: SharedClock,
}

impl RedisPresence {
    pub fn new(redis: Redis, clock: SharedClock) -> Self {
        Self { redis, clock }
    }

    fn key(&self, user: &str) -> String {
        self.redis.key(&format!("presence:{user}"))
    }

    fn now_ms(&self) -> f64 {
        self.clock.now().as_jiff().as_millisecond() as f64
    }
}

#[async_trait::async_trait]
impl Presence for RedisPresence {
    async fn touch(&self, user: &str, connection: &str, ttl: Duration) {
        let key = self.key(user);
        let until = self.now_ms() + ttl.as_millis() as f64;
        let millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let connection = connection.to_owned();
        let stored: Result<bool, _> = self
            .redis
            .call(|c| async move {
                let _: i64 = c
                    .zadd(&key, None, None, false, false, (until, connection))
                    .await?;
                c.pexpire(&key, millis, None).await
            })
            .await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "presence heartbeat not stored");
        }
    }

    async fn leave(&self, user: &str, connection: &str) {
        let (key, connection) = (self.key(user), connection.to_owned());
        let removed: Result<i64, _> = self
            .redis
            .call(|c| async move { c.zrem(key, connection).await })
            .await;
        if let Err(e) = removed {
            tracing::warn!(error = %e, "presence goodbye not stored");
        }
    }

    async fn online(&self, users: &[String]) -> Vec<String> {
        let now = self.now_ms();
        let mut out = Vec::new();
        for user in users {
            let key = self.key(user);
            let live: Result<i64, _> = self
                .redis
                .call(|c| async move { c.zcount(key, now, f64::INFINITY).await })
                .await;
            match live {
                Ok(n) if n > 0 => out.push(user.clone()),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "presence read failed; reading as offline"),
            }
        }
        out
    }
}
