//! The plaza product: the HTTP layer that every slice shares (`http`), and
//! one folder per domain, each a vertical slice with its routes, rules and
//! SQL side by side.

pub mod auth;
pub mod chat;
pub mod files;
pub mod health;
pub mod http;
pub mod jobs;
pub mod meditation;
pub mod notifications;
pub mod profiles;
pub mod projects;
pub mod realtime;
pub mod state;
pub mod users;

pub use http::{router, serve};
pub use state::{AppState, Services};

/// Every migration, embedded from `migrations/` at build time.
pub static MIGRATIONS: &[plaza_platform::db::Migration] =
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
