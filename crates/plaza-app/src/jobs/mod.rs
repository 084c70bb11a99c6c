//! Jobs in the product: the queues plaza runs, every slice's job kinds and
//! schedules registered in one place, and the dashboard (seed 003). The
//! queue itself — claiming, leases, retries, cron — is the platform's
//! (`plaza_platform::jobs`).

mod handlers;
pub mod service;

use plaza_platform::jobs::cron::Cron;
use plaza_platform::outbox::PruneEvents;
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
}

/// Every queue: seed 003's four and the modules' own.
pub const QUEUES: [&str; 5] = ["ai", "email", "analytics", "notifications", "maintenance"];

/// The job kinds of the platform and of every slice.
pub fn registry() -> Registry<AppState> {
    let mut registry = Registry::new();
    registry.register::<PruneEvents>();
    registry.register::<PruneJobs>();
    registry.register::<OptimizeDb>();
    registry.register::<crate::meditation::CloseStaleSessions>();
    registry.register::<crate::meditation::RollUp>();
    registry.register::<crate::meditation::EndRound>();
    registry.register::<crate::projects::Accepted>();
    registry.register::<crate::notifications::Deliver>();
    registry.register::<crate::notifications::mail::AccountMail>();
    registry.register::<crate::notifications::mail::NotificationMail>();
    registry
}

/// The schedules of the platform and of every slice.
pub fn schedules() -> Cron {
    let mut cron = Cron::new();
    // Fixed expressions: a mistake here fails the tests, never a start-up.
    let added = cron
        .add("prune-events", "17 * * * *", &PruneEvents {})
        .and_then(|cron| cron.add("prune-jobs", "37 * * * *", &PruneJobs {}))
        .and_then(|cron| cron.add("optimize-db", "47 * * * *", &OptimizeDb {}))
        .and_then(|cron| {
            let job = crate::meditation::CloseStaleSessions {};
            cron.add("close-stale-sessions", "*/5 * * * *", &job)
        })
        .and_then(|cron| {
            cron.add(
                "meditation-rollup",
                "*/10 * * * *",
                &crate::meditation::RollUp {},
            )
        });
    if let Err(e) = added {
        tracing::error!(error = %e, "a built-in schedule is invalid");
    }
    cron
}
