use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use crate::http::ApiError;
use crate::state::AppState;

/// How long one readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

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
    let database = check(state.db.ping());
    let redis = async {
        match &state.redis {
            Some(redis) => Some(check(redis.ping()).await),
            None => None,
        }
    };
    let storage = async {
        if state.storage.is_remote() {
            Some(check(state.storage.ping()).await)
        } else {
            None
        }
    };
    let (database, redis, storage) = tokio::join!(database, redis, storage);
    let mut results = vec![("database", database)];
    results.extend(redis.map(|r| ("redis", r)));
    results.extend(storage.map(|r| ("storage", r)));

    let mut checks = BTreeMap::new();
    let mut failed = Vec::new();
    for (name, result) in results {
        match result {
            Ok(()) => {
                checks.insert(name, "ok".to_owned());
            }
            Err(reason) => {
                // The cause goes to the log; the answer only names the service.
                tracing::error!(service = name, reason, "readiness check failed");
                checks.insert(name, "unavailable".to_owned());
                failed.push(name);
            }
        }
    }
    if failed.is_empty() {
        return Ok(Json(Readiness {
            status: "ready",
            checks,
        }));
    }
    Err(
        ApiError::dependency(format!("not ready: {} did not answer", failed.join(", ")))
            .with_details(serde_json::json!({ "failed": failed, "checks": checks })),
    )
}

async fn check<E: std::fmt::Display>(
    probe: impl Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
    }
}

/// `GET /metrics` — Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses((status = 200, content_type = "text/plain; version=0.0.4", body = String)),
)]
pub async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        plaza_platform::telemetry::render_metrics(),
    )
}
