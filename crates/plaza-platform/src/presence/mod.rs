//! The presence port: who is online. A user is online while any of their
//! connections has sent a heartbeat within its time to live; a connection
//! that dies without saying goodbye simply expires, and a sweep on the
//! surviving nodes claims the users left with none ([`Presence::expired`]). In-process by default,
//! Redis (one sorted set per user, scored by expiry) across nodes.

mod memory;
mod redis;

use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryPresence;
pub use redis::RedisPresence;

#[async_trait::async_trait]
pub trait Presence: Send + Sync + std::fmt::Debug {
    /// `connection` of `user` is alive for another `ttl`.
    async fn touch(&self, user: &str, connection: &str, ttl: Duration);
    /// `connection` of `user` closed.
    async fn leave(&self, user: &str, connection: &str);
    /// Those of `users` with a live connection, in the order given.
    async fn online(&self, users: &[String]) -> Vec<String>;
    /// Users whose every connection expired without saying goodbye (their
    /// node died), each handed to one caller once, so one node announces
    /// them offline.
    async fn expired(&self) -> Vec<String>;
}

pub type SharedPresence = Arc<dyn Presence>;

#[cfg(test)]
mod tests;
