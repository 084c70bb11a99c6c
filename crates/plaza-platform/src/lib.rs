//! plaza's machinery, knowing no domain: configuration, the database and its
//! migrations, cache, bus, rate limiter, Redis and telemetry. One folder per
//! port: the trait beside its implementations.

pub mod config;
