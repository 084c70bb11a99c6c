//! The plaza product: the HTTP layer that every slice shares (`http`), the
//! context every use case receives (`state`), one folder per domain — each
//! a vertical slice with its routes, use cases and SQL side by side — and
//! the composition root that wires them (`app`). docs/architecture.md
//! draws which may import which.

pub mod app;
pub mod auth;
pub mod chat;
pub mod coach;
pub mod files;
pub mod fitness;
pub mod graphql;
pub mod health;
pub mod http;
pub mod jobs;
pub mod meditation;
pub mod notifications;
pub mod payments;
pub mod profiles;
pub mod projects;
pub mod realtime;
pub mod state;
pub mod users;
pub mod web;

pub use app::{router, router_with};
pub use http::serve;
pub use state::{AppState, Services};

/// Every migration, embedded from `migrations/` at build time.
pub static MIGRATIONS: &[plaza_platform::db::Migration] =
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
