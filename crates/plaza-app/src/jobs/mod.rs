//! The durable job queue (issue 5, in progress): jobs live in the database,
//! so one enqueued inside a domain transaction exists only if it commits.
//! So far: the store — enqueue with uniqueness windows, claiming by priority
//! and run time with a lease, completion, failure with exponential backoff
//! and jitter ending in the dead state, and reclaiming expired leases; and
//! the runner — job kinds as types, workers per queue with heartbeats.

pub mod cron;
mod handlers;
mod optimize;
mod prune;
pub mod runner;
pub mod store;

use std::time::Duration;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// The job kinds of every module.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register::<crate::events::PruneEvents>();
    registry.register::<PruneJobs>();
    registry.register::<optimize::OptimizeDb>();
    registry.register::<crate::meditation::CloseStaleSessions>();
    registry.register::<crate::meditation::RollUp>();
    registry.register::<crate::meditation::EndRound>();
    registry.register::<crate::projects::Accepted>();
    registry.register::<crate::notifications::Deliver>();
    registry.register::<crate::notifications::mail::AccountMail>();
    registry.register::<crate::notifications::mail::NotificationMail>();
    registry
}

/// The modules' schedules.
pub fn schedules() -> cron::Cron {
    let mut cron = cron::Cron::new();
    // Fixed expressions: a mistake here fails the tests, never a start-up.
    let added = cron
        .add("prune-events", "17 * * * *", &crate::events::PruneEvents {})
        .and_then(|cron| cron.add("prune-jobs", "37 * * * *", &PruneJobs {}))
        .and_then(|cron| cron.add("optimize-db", "47 * * * *", &optimize::OptimizeDb {}))
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

/// Runs workers for `queues` (and the schedules and the reclaimer) on this
/// node until shutdown.
pub fn start(state: &AppState, queues: &[&str]) {
    let plan: Vec<(&str, usize)> = queues
        .iter()
        .map(|q| {
            let n = state.config.jobs.concurrency_of(q);
            (*q, usize::try_from(n).unwrap_or(1))
        })
        .collect();
    runner::spawn(state, registry(), &plan);
    cron::spawn(state, schedules());
}

pub use prune::PruneJobs;
pub use runner::{JobKind, Registry, Workers, added, enqueue, enqueue_at};
pub use store::{Job, NewJob, Priority};

/// Delay before retry number `attempt` (1 = the first retry): doubling from
/// `base`, capped at `max`, then spread by ±50 % so a failing dependency is
/// not hit by every retry at once.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = doubled.min(max);
    let mut byte = [0u8; 2];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX),
        Err(_) => 0.5,
    };
    capped.mul_f64(0.5 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for (attempt, nominal) in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)] {
            for _ in 0..50 {
                let d = backoff(attempt, base, max).as_secs_f64();
                let n = f64::from(nominal);
                assert!(d >= n * 0.5 - 1e-9 && d <= n * 1.5 + 1e-9, "{attempt}: {d}");
            }
        }
    }
}
