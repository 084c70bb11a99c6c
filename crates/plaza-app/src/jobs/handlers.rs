//! The queue dashboard (seed 003): `/api/admin/queues` and `/api/admin/jobs`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::JobId;
use plaza_platform::jobs::Job;
use serde::Serialize;
use utoipa::ToSchema;

use super::service;
use crate::http::{AdminUser, ApiError, ErrorBody, ValidPath, ValidQuery, page_limit};
use crate::state::AppState;

/// Seed 003's queues, always listed.
pub const QUEUES: [&str; 4] = ["ai", "email", "analytics", "notifications"];

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct QueueCounts {
    /// Due and not yet claimed.
    pub waiting: i64,
    pub active: i64,
    pub completed: i64,
    /// Waiting for a retry after a failed attempt.
    pub failed: i64,
    /// Not due yet (run later).
    pub delayed: i64,
    /// Out of attempts; kept, retryable.
    pub dead: i64,
}

/// Seed 003's name for a queue: `ai` → `AI`, `email` → `Email`.
fn display(queue: &str) -> String {
    if queue == "ai" {
        return "AI".into();
    }
    let mut chars = queue.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `GET /api/admin/queues` — jobs per queue and state, in seed 003's shape.
#[utoipa::path(get, path = "/api/admin/queues", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"AI\": {\"waiting\": 2, \"active\": 1, …}, \"Email\": {…}}`",
            body = BTreeMap<String, QueueCounts>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn queue_counts(
    State(state): State<AppState>,
    admin: AdminUser,
) -> Result<Json<BTreeMap<String, QueueCounts>>, ApiError> {
    let rows = service::counts(&state, admin).await?;
    let mut out: BTreeMap<String, QueueCounts> = QUEUES
        .iter()
        .map(|q| (display(q), QueueCounts::default()))
        .collect();
    for (queue, bucket, n) in rows {
        let counts = out.entry(display(&queue)).or_default();
        match bucket.as_str() {
            "waiting" => counts.waiting += n,
            "active" => counts.active += n,
            "completed" => counts.completed += n,
            "failed" => counts.failed += n,
            "delayed" => counts.delayed += n,
            "dead" => counts.dead += n,
            _ => {}
        }
    }
    Ok(Json(out))
}

/// One job as the dashboard shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    #[schema(value_type = String, format = Uuid)]
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `high`, `normal` or `low`.
    pub priority: &'static str,
    /// `waiting`, `active`, `completed`, `dead` or `cancelled`.
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    #[schema(value_type = String, format = DateTime)]
    pub run_at: plaza_core::Timestamp,
    pub unique_key: Option<String>,
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: plaza_core::Timestamp,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        Self {
            payload: serde_json::from_str(&j.payload).unwrap_or(serde_json::Value::Null),
            priority: match j.priority {
                0 => "high",
                2 => "low",
                _ => "normal",
            },
            id: j.id,
            queue: j.queue,
            kind: j.kind,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            unique_key: j.unique_key,
            last_error: j.last_error,
            created_at: j.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs in this state.
    state: Option<String>,
    /// 1–100, default 20.
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `GET /api/admin/queues/{queue}/jobs?state=&limit=&offset=` — a queue's jobs, newest first.
#[utoipa::path(get, path = "/api/admin/queues/{queue}/jobs", tag = "admin", security(("bearer" = [])),
    params(("queue" = String, Path), JobsQuery),
    responses((status = 200, body = JobPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(queue): ValidPath<String>,
    ValidQuery(query): ValidQuery<JobsQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let page = (
        page_limit(query.limit, 20)?,
        i64::from(query.offset.unwrap_or(0)),
    );
    let jobs = service::list(&state, admin, &queue, query.state.as_deref(), page).await?;
    Ok(Json(JobPage {
        items: jobs.into_iter().map(JobView::from).collect(),
    }))
}

/// `GET /api/admin/jobs/{id}` — one job, with its payload and last error.
#[utoipa::path(get, path = "/api/admin/jobs/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<JobId>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(service::get(&state, admin, id).await?.into()))
}

/// `DELETE /api/admin/jobs/{id}` — deletes a job that is not running (409 if it is).
#[utoipa::path(delete, path = "/api/admin/jobs/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_job(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<JobId>,
) -> Result<StatusCode, ApiError> {
    service::delete(&state, admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/admin/jobs/{id}/retry` — a dead or cancelled job waits again, due now.
#[utoipa::path(post, path = "/api/admin/jobs/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<JobId>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(service::retry(&state, admin, id).await?.into()))
}

/// `POST /api/admin/jobs/{id}/cancel` — a waiting job will not run.
#[utoipa::path(post, path = "/api/admin/jobs/{id}/cancel", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidPath(id): ValidPath<JobId>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(service::cancel(&state, admin, id).await?.into()))
}

/// The outbox's backlog and this node's export.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxView {
    /// Events recorded but not yet published on the bus.
    pub unpublished: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_unpublished: Option<plaza_core::Timestamp>,
    /// Seconds since the oldest unpublished event happened (0 with none).
    pub publish_lag_seconds: f64,
    /// Events not yet handed to the broker (0 without one).
    pub unexported: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_unexported: Option<plaza_core::Timestamp>,
    pub export_lag_seconds: f64,
    /// This node's exporter; null when no broker is configured.
    pub export: Option<ExportView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportView {
    /// `rabbitmq` or `nats`.
    pub broker: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_export_at: Option<plaza_core::Timestamp>,
    pub last_error: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_error_at: Option<plaza_core::Timestamp>,
    /// Failures in a row now; 0 while export works.
    pub failing_for: u32,
}

/// `GET /api/admin/outbox` — events waiting to be published or exported,
/// the lag, and the exporter's last error.
#[utoipa::path(get, path = "/api/admin/outbox", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = OutboxView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    admin: AdminUser,
) -> Result<Json<OutboxView>, ApiError> {
    let (backlog, export) = service::outbox(&state, admin).await?;
    let now = state.clock.now();
    let lag =
        |t: Option<plaza_core::Timestamp>| t.map_or(0.0, |t| now.duration_since(t).as_secs_f64());
    Ok(Json(OutboxView {
        unpublished: backlog.unpublished,
        oldest_unpublished: backlog.oldest_unpublished,
        publish_lag_seconds: lag(backlog.oldest_unpublished),
        unexported: backlog.unexported,
        oldest_unexported: backlog.oldest_unexported,
        export_lag_seconds: lag(backlog.oldest_unexported),
        export: export.map(|e| ExportView {
            broker: e.broker.to_owned(),
            last_export_at: e.last_export_at,
            last_error: e.last_error,
            last_error_at: e.last_error_at,
            failing_for: e.failing_for,
        }),
    }))
}
