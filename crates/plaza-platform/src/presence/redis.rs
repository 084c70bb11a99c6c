use std::time::Duration;

use fred::interfaces::{KeysInterface, SortedSetsInterface};
use fred::types::sorted_sets::{Ordering, ZRange, ZRangeBound, ZRangeKind};
use plaza_core::SharedClock;

use super::Presence;
use crate::redis::Redis;

/// Presence shared by every node: `presence:<user>` is a sorted set of
/// connection ids scored by their expiry (ms); the key itself expires with
/// the longest-lived connection. `presence:index` scores each user by the
/// expiry of their longest-lived connection, so a sweep finds the users
/// whose node died. Errors are logged and read as offline.
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

    fn index(&self) -> String {
        self.redis.key("presence:index")
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
        let (connection, index, member) = (connection.to_owned(), self.index(), user.to_owned());
        let stored: Result<i64, _> = self
            .redis
            .call(|c| async move {
                let _: i64 = c
                    .zadd(&key, None, None, false, false, (until, connection))
                    .await?;
                let _: bool = c.pexpire(&key, millis, None).await?;
                let ordering = Some(Ordering::GreaterThan);
                c.zadd(&index, None, ordering, false, false, (until, member))
                    .await
            })
            .await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "presence heartbeat not stored");
        }
    }

    async fn leave(&self, user: &str, connection: &str) {
        let (key, connection) = (self.key(user), connection.to_owned());
        let (index, member, now) = (self.index(), user.to_owned(), self.now_ms());
        let removed: Result<i64, _> = self
            .redis
            .call(|c| async move {
                let _: i64 = c.zrem(&key, connection).await?;
                // The last connection said goodbye: nothing for a sweep.
                let left: i64 = c.zcount(&key, now, f64::INFINITY).await?;
                if left > 0 {
                    return Ok(0);
                }
                c.zrem(&index, member).await
            })
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

    async fn expired(&self) -> Vec<String> {
        let now = self.now_ms();
        let index = self.index();
        let due: Result<Vec<String>, _> = self
            .redis
            .call(|c| {
                let index = index.clone();
                async move {
                    let from = ZRange {
                        kind: ZRangeKind::Inclusive,
                        range: ZRangeBound::NegInfiniteScore,
                    };
                    let to = ZRange {
                        kind: ZRangeKind::Inclusive,
                        range: ZRangeBound::Score(now),
                    };
                    c.zrangebyscore(&index, from, to, false, Some((0, 1000)))
                        .await
                }
            })
            .await;
        let mut gone = Vec::new();
        for user in due.unwrap_or_default() {
            let (key, index, member) = (self.key(&user), index.clone(), user.clone());
            // Claimed by whichever node removes it from the index first.
            let claimed: Result<i64, _> = self
                .redis
                .call(|c| async move {
                    let live: i64 = c.zcount(&key, now, f64::INFINITY).await?;
                    if live > 0 {
                        return Ok(0);
                    }
                    c.zrem(&index, member).await
                })
                .await;
            if claimed.is_ok_and(|n| n == 1) {
                gone.push(user);
            }
        }
        gone
    }
}
