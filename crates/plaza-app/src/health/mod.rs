//! Liveness (`/health`, `/api/v1/health`), readiness (`/ready`: every
//! backing service answers) and `/metrics` for Prometheus (and for admins
//! at `/api/admin/metrics`).

pub mod error;
mod handlers;
pub mod service;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::health))
        .routes(routes!(handlers::health_v1))
        .routes(routes!(handlers::ready))
        .routes(routes!(handlers::metrics))
        .routes(routes!(handlers::admin_metrics))
}
