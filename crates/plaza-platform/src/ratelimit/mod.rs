//! The rate-limiter port: GCRA (a leaky bucket that allows `count` at once
//! and one more every `period / count`), per class and key. In-process by
//! default (governor); in Redis when scaled out, so every node draws on the
//! same budget. A limiter never fails or slows a request: while Redis is
//! away each node counts on its own, and the fallback is counted.

mod memory;
mod redis;

use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryLimiter;
pub use redis::RedisLimiter;

use crate::config::Rate;

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests allowed at once (`RateLimit-Limit`).
    pub limit: u32,
    /// Requests left right now (`RateLimit-Remaining`).
    pub remaining: u32,
    /// Until the budget is whole again (`RateLimit-Reset`).
    pub reset_after: Duration,
    /// Until the next request may pass, when refused (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Decision {
    /// What a limiter answers when it cannot decide (its store is away).
    fn pass(rate: Rate) -> Self {
        Self {
            allowed: true,
            limit: rate.count,
            remaining: rate.count,
            reset_after: Duration::ZERO,
            retry_after: None,
        }
    }
}

#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Spends one request of `key`'s budget in `class`, if there is one left.
    async fn check(&self, class: &str, rate: Rate, key: &str) -> Decision;
}

pub type SharedLimiter = Arc<dyn RateLimiter>;

#[cfg(test)]
mod tests;
