//! The composition root: which slices make up plaza and how they are
//! wired — the routes under their limits and middleware, the job kinds
//! and schedules, the queues a node works. Nothing below imports this
//! module; it is the only place that names every slice.

use axum::Router;
use plaza_platform::jobs::cron::Cron;
use plaza_platform::jobs::{OptimizeDb, PruneJobs, Registry};
use plaza_platform::outbox::PruneEvents;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::http::ratelimit::{self, LimitClass};
use crate::http::{openapi, with_middleware};
use crate::state::AppState;

/// Every queue: seed 003's four and the modules' own.
pub const QUEUES: [&str; 6] = [
    "ai",
    "email",
    "analytics",
    "notifications",
    "payments",
    "maintenance",
];

/// The whole application: every enabled slice, the docs, and the middleware.
pub fn router(state: AppState) -> Router {
    router_with(state, OpenApiRouter::new())
}

/// The application with `extra` routes mounted beside the slices' `/api`
/// routes, under the same middleware and limits (tests use this to add
/// routes that sleep or panic).
pub fn router_with(state: AppState, extra: OpenApiRouter<AppState>) -> Router {
    let general = axum::middleware::from_fn_with_state(
        (state.clone(), LimitClass::General),
        ratelimit::rate_limit,
    );
    // Everything an application calls is limited; probes and docs are not.
    let (mut limited, limited_api) = OpenApiRouter::new()
        .merge(crate::auth::router(&state))
        .merge(crate::profiles::router(&state))
        .merge(crate::files::router(&state))
        .merge(crate::chat::router())
        .merge(crate::realtime::router())
        .merge(crate::jobs::router())
        .merge(crate::notifications::router())
        .merge(crate::meditation::router())
        .merge(crate::projects::router())
        .merge(crate::payments::router())
        .merge(crate::fitness::router())
        .merge(crate::coach::router(&state))
        .merge(extra)
        .split_for_parts();
    limited = limited.merge(crate::graphql::router(&state));
    if limited.has_routes() {
        // axum refuses a route layer on a router without routes.
        limited = limited.route_layer(general);
    }
    let (open, mut api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(crate::health::router())
        .merge(crate::payments::webhook_router())
        .split_for_parts();
    api.merge(limited_api);
    let routes = open
        .merge(limited)
        .merge(openapi::docs_router(api))
        .merge(crate::web::router(&state));
    with_middleware(routes, state)
}

/// The hooks slices call without knowing whose they are.
pub fn hooks() -> crate::state::Hooks {
    crate::state::Hooks {
        closing: std::sync::Arc::new(crate::payments::escrow::Escrows),
    }
}

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
    registry.register::<crate::payments::refunds::SendRefund>();
    registry.register::<crate::payments::escrow::DealNotice>();
    registry.register::<crate::payments::jobs::Reconcile>();
    registry.register::<crate::payments::jobs::Audit>();
    registry.register::<crate::coach::answer::Answer>();
    registry.register::<crate::coach::usage::UsageGauges>();
    registry.register::<crate::fitness::reminders::Reminders>();
    registry.register::<crate::fitness::reminders::WeeklyReports>();
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
            let job = crate::meditation::RollUp {};
            cron.add("meditation-rollup", "*/10 * * * *", &job)
        })
        .and_then(|cron| {
            let job = crate::payments::jobs::Reconcile {};
            cron.add("payments-reconcile", "*/5 * * * *", &job)
        })
        .and_then(|cron| {
            let job = crate::payments::jobs::Audit {};
            cron.add("payments-audit", "27 * * * *", &job)
        })
        .and_then(|cron| {
            let job = crate::coach::usage::UsageGauges {};
            cron.add("ai-usage", "13 * * * *", &job)
        })
        .and_then(|cron| {
            let job = crate::fitness::reminders::Reminders {};
            cron.add("fitness-reminders", "*/15 * * * *", &job)
        })
        .and_then(|cron| {
            let job = crate::fitness::reminders::WeeklyReports {};
            cron.add("fitness-weekly-reports", "5 * * * *", &job)
        });
    if let Err(e) = added {
        tracing::error!(error = %e, "a built-in schedule is invalid");
    }
    cron
}

impl AppState {
    /// Starts the background work of a serving node — the outbox relay,
    /// and job workers on every queue unless `jobs.run` is off — once the
    /// database is migrated.
    pub fn start(&self) {
        plaza_platform::outbox::spawn(self.clone());
        let shutdown = self.shutdown.clone();
        self.db.watch(async move { shutdown.stopping().await });
        crate::realtime::service::spawn_sweeper(self);
        let state = self.clone();
        tokio::spawn(async move {
            match crate::auth::mfa::service::reseal(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(n, "TOTP secrets sealed again with the current key"),
                Err(e) => tracing::warn!(error = %e, "cannot seal TOTP secrets again"),
            }
        });
        if self.config.jobs.run {
            self.start_jobs(&QUEUES);
        }
    }

    /// Runs job workers for `queues` on this node, with every slice's job
    /// kinds, and the schedules.
    pub fn start_jobs(&self, queues: &[&str]) {
        plaza_platform::jobs::start(self, registry(), schedules(), queues);
    }
}
