//! The queue dashboard (seed 003).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::store;
use crate::auth::AdminUser;
use crate::http::{ApiError, ErrorBody};
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
    _: AdminUser,
) -> Result<Json<BTreeMap<String, QueueCounts>>, ApiError> {
    let rows = {
        let mut conn = state.db.reader().acquire().await?;
        store::counts(&mut conn, state.clock.now()).await?
    };
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
