//! The hourly job that deletes finished jobs — completed or cancelled more
//! than a week ago — so the table holds what is waiting, running or dead
//! plus a week of history for the dashboard. Dead jobs stay until an admin
//! retries or deletes them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{JobKind, Priority};
use crate::state::AppState;

/// How long finished jobs are kept.
pub const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PruneJobs {}

#[async_trait::async_trait]
impl JobKind for PruneJobs {
    const KIND: &'static str = "jobs.prune";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::Low;

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let before = state.clock.now().saturating_sub(KEEP);
        let deleted = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('completed', 'cancelled') \
             AND COALESCE(finished_at, created_at) < $1",
        )
        .bind(before)
        .execute(state.db.writer())
        .await?
        .rows_affected();
        if deleted > 0 {
            tracing::info!(deleted, "pruned finished jobs");
        }
        Ok(())
    }
}
