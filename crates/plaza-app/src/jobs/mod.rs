//! The jobs dashboard (seed 003): counts, listing, retry and cancel. The
//! queue itself — claiming, leases, retries, cron — is the platform's
//! (`plaza_platform::jobs`); which kinds and schedules run is the app's
//! (`crate::app`).

pub mod error;
mod handlers;
pub mod service;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use plaza_platform::jobs::{
    Job, JobKind, NewJob, OptimizeDb, Priority, PruneJobs, Registry, cron, enqueue, store,
};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::queue_counts))
        .routes(routes!(handlers::list_jobs))
        .routes(routes!(handlers::get_job, handlers::delete_job))
        .routes(routes!(handlers::retry_job))
        .routes(routes!(handlers::cancel_job))
        .routes(routes!(handlers::outbox))
}
