use std::collections::BTreeMap;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Serialize;

use crate::http::error::codes;
use crate::http::{AdminUser, ApiError};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
    #[schema(example = "0.1.0")]
    version: &'static str,
    uptime_seconds: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    /// Each backing service: `ok` or `unavailable`.
    #[schema(example = json!({"database": "ok", "redis": "ok"}))]
    checks: BTreeMap<&'static str, String>,
}

fn liveness(state: &AppState) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
    })
}

/// `GET /health` — the process is up.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    liveness(&state)
}

/// `GET /api/v1/health` — seed 002's path for the same answer as `/health`.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health_v1(State(state): State<AppState>) -> Json<Health> {
    liveness(&state)
}

/// `GET /ready` — the database and every configured service answer.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "health",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "A backing service did not answer; `details.checks` names it", body = crate::http::ErrorBody),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    let checks = super::service::readiness(&state).await?;
    Ok(Json(Readiness {
        status: "ready",
        checks,
    }))
}

/// `GET /metrics` — Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses(
        (status = 200, content_type = "text/plain; version=0.0.4", body = String),
        (status = 404, description = "Not from this machine and no `http.metrics_token`, or the wrong token", body = crate::http::ErrorBody),
    ),
)]
pub async fn metrics(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let allowed = match &state.config.http.metrics_token {
        Some(token) => bearer(&headers).is_some_and(|given| same(given, token.expose())),
        None => peer.is_some_and(|Extension(ConnectInfo(addr))| addr.ip().is_loopback()),
    };
    if !allowed {
        // Answered as if there were nothing here.
        return Err(ApiError::new(
            codes::ROUTE_NOT_FOUND,
            "no route for GET /metrics (set http.metrics_token to scrape from another host)",
        ));
    }
    Ok(prometheus_text())
}

/// `GET /api/admin/metrics` — the same text for an admin's token, so the
/// console's live charts work from any browser (`/metrics` answers only
/// this machine or the scrape token).
#[utoipa::path(
    get,
    path = "/api/admin/metrics",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
    ),
)]
pub async fn admin_metrics(_admin: AdminUser) -> impl IntoResponse {
    prometheus_text()
}

/// This node's metrics in Prometheus' text format.
fn prometheus_text() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        plaza_platform::telemetry::render_metrics(),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Compares digests, so the time taken says nothing about the token.
fn same(given: &str, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(given.as_bytes()) == Sha256::digest(token.as_bytes())
}
