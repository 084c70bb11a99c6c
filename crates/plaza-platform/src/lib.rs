//! plaza's machinery, knowing no domain: configuration, the database and its
//! migrations, cache, bus, rate limiter, mail, object storage, Redis and
//! telemetry — one folder per port, the trait beside its implementations —
//! and what runs on them: the outbox and its relay, the job queue, and the
//! unit of work that ties a write to both.

pub mod ai;
pub mod breaker;
pub mod bus;
pub mod cache;
pub mod config;
pub mod cpu;
pub mod db;
pub mod export;
pub mod jobs;
pub mod mail;
pub mod outbox;
mod platform;
pub mod presence;
pub mod ratelimit;
pub mod redis;
pub mod seal;
pub mod secret;
pub mod shutdown;
pub mod storage;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tls;
pub mod work;

pub use platform::{Context, Platform};
pub use plaza_core::Timestamp;
pub use work::Work;
