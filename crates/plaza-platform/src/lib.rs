//! plaza's machinery, knowing no domain: configuration, the database and its
//! migrations, cache, bus, rate limiter, mail, object storage, Redis and
//! telemetry. One folder per
//! port: the trait beside its implementations.

pub mod bus;
pub mod cache;
pub mod config;
pub mod cpu;
pub mod db;
pub mod export;
pub mod mail;
pub mod presence;
pub mod ratelimit;
pub mod redis;
pub mod secret;
pub mod shutdown;
pub mod storage;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tls;

pub use plaza_core::Timestamp;
