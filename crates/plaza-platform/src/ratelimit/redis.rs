use std::sync::RwLock;
use std::time::Duration;

use fred::interfaces::LuaInterface;
use plaza_core::SharedClock;

use super::{Decision, MemoryLimiter, RateLimiter};
use crate::config::Rate;
use crate::redis::Redis;

/// GCRA as one atomic script, timed by the Redis server's clock so nodes
/// with skewed clocks agree. Times are microseconds.
/// Returns `{allowed, remaining, retry_after_us, reset_after_us}`.
const GCRA: &str = r#"
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
"#;

/// Rate limits shared by every node through Redis. While Redis is away
/// each node counts on its own ([`MemoryLimiter`]), so a limit still holds
/// per node instead of every request passing.
#[derive(Debug)]
pub struct RedisLimiter {
    redis: Redis,
    sha: RwLock<String>,
    fallback: MemoryLimiter,
}

impl RedisLimiter {
    pub async fn new(redis: Redis, clock: SharedClock) -> Result<Self, fred::error::Error> {
        let sha: String = redis
            .call(|c| async move { c.script_load(GCRA).await })
            .await?;
        Ok(Self {
            redis,
            sha: RwLock::new(sha),
            fallback: MemoryLimiter::new(clock),
        })
    }

    async fn run(&self, key: String, rate: Rate) -> Result<Vec<i64>, fred::error::Error> {
        let args = vec![
            i64::try_from(rate.interval().as_micros()).unwrap_or(i64::MAX),
            i64::try_from(rate.period.as_micros()).unwrap_or(i64::MAX),
        ];
        let sha = self.sha.read().map(|s| s.clone()).unwrap_or_default();
        self.redis
            .call(|client| async move {
                match client.evalsha(sha, key.clone(), args.clone()).await {
                    // The server lost its script cache (a restart): load it again.
                    Err(e) if e.details().starts_with("NOSCRIPT") => {
                        let sha: String = client.script_load(GCRA).await?;
                        if let Ok(mut stored) = self.sha.write() {
                            stored.clone_from(&sha);
                        }
                        client.evalsha(sha, key, args).await
                    }
                    other => other,
                }
            })
            .await
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, class: &str, rate: Rate, key: &str) -> Decision {
        let redis_key = self.redis.key(&format!("rl:{class}:{key}"));
        match self.run(redis_key, rate).await {
            Ok(v) if v.len() == 4 => {
                let micros = |x: i64| Duration::from_micros(u64::try_from(x).unwrap_or(0));
                let allowed = v[0] == 1;
                Decision {
                    allowed,
                    limit: rate.count,
                    remaining: u32::try_from(v[1]).unwrap_or(0),
                    reset_after: micros(v[3]),
                    retry_after: (!allowed).then(|| micros(v[2])),
                }
            }
            Ok(v) => {
                tracing::error!(reply = ?v, "rate-limit script gave an unexpected reply; counting on this node");
                metrics::counter!("plaza_rate_limit_errors_total").increment(1);
                self.fallback.check(class, rate, key).await
            }
            Err(e) => {
                tracing::debug!(error = %e, class, "rate limiter cannot reach Redis; counting on this node");
                metrics::counter!("plaza_rate_limit_errors_total").increment(1);
                self.fallback.check(class, rate, key).await
            }
        }
    }
}
