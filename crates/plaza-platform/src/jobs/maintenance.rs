//! The queue's own upkeep, run on the `maintenance` queue: pruning finished
//! jobs, and keeping SQLite's query planner informed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{JobKind, Priority};
use crate::db::Backend;
use crate::platform::Platform;

/// How long finished jobs are kept.
pub const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// The hourly job that deletes finished jobs — completed or cancelled more
/// than a week ago — so the table holds what is waiting, running or dead
/// plus a week of history for the dashboard. Dead jobs stay until an admin
/// retries or deletes them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PruneJobs {}

#[async_trait::async_trait]
impl JobKind for PruneJobs {
    type Context = Platform;
    const KIND: &'static str = "jobs.prune";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::Low;

    async fn run(&self, state: &Platform) -> anyhow::Result<()> {
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

/// The hourly job that keeps SQLite's query planner informed: `PRAGMA
/// optimize` gathers statistics for the tables that grew since (the writer
/// runs it once with a bound when it connects, too). Without them SQLite
/// may drive a filtered search from the wrong index — 0.5 s instead of
/// 0.07 s for a skills filter over 100 000 projects. PostgreSQL's
/// autovacuum does this there.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OptimizeDb {}

#[async_trait::async_trait]
impl JobKind for OptimizeDb {
    type Context = Platform;
    const KIND: &'static str = "db.optimize";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::Low;

    async fn run(&self, state: &Platform) -> anyhow::Result<()> {
        if state.db.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA optimize")
                .execute(state.db.writer())
                .await?;
        }
        Ok(())
    }
}
