//! The job that closes sessions left open (an app closed mid-session)
//! once they pass the maximum length: each is ended at its start plus the
//! maximum, so it counts as that long and not as days, and its
//! `meditation.session.ended` event says `closed_by: "timeout"`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::handlers::MAX_SESSION_SEC;
use crate::jobs::{JobKind, Priority};
use crate::state::AppState;

/// Sessions closed per run (the next run takes the rest).
const BATCH: i64 = 500;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CloseStaleSessions {}

#[async_trait::async_trait]
impl JobKind for CloseStaleSessions {
    const KIND: &'static str = "meditation.close_stale";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::Low;

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let max = Duration::from_secs(MAX_SESSION_SEC.unsigned_abs());
        let before = state.clock.now().saturating_sub(max);
        let stale: Vec<(String, plaza_core::UserId, plaza_core::Timestamp, String)> =
            sqlx::query_as(
                "SELECT id, user_id, started_at, type FROM meditation_sessions \
                 WHERE ended_at IS NULL AND started_at < $1 ORDER BY started_at LIMIT $2",
            )
            .bind(before)
            .bind(BATCH)
            .fetch_all(state.db.reader())
            .await?;
        for (id, user, started_at, kind) in stale {
            let ended_at = started_at.saturating_add(max);
            let mut tx = state.db.begin().await?;
            let closed = sqlx::query(
                "UPDATE meditation_sessions SET ended_at = $2, duration_sec = $3 \
                 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(&id)
            .bind(ended_at)
            .bind(MAX_SESSION_SEC)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if closed == 0 {
                // Ended by its owner meanwhile.
                continue;
            }
            let event = crate::events::Event::new(
                "meditation.session.ended",
                format!("user:{user}"),
                None,
                json!({
                    "session_id": id, "type": kind, "started_at": started_at,
                    "duration_sec": MAX_SESSION_SEC, "mood_before": null, "mood_after": null,
                    "closed_by": "timeout",
                }),
                state.clock.now(),
            );
            crate::events::record(&mut tx, &event).await?;
            tx.commit().await?;
            state.relay.wake();
            super::stats::invalidate(state, user).await;
            tracing::info!(session_id = id, "closed a meditation session left open");
        }
        Ok(())
    }
}
