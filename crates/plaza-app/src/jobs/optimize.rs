//! The hourly job that keeps SQLite's query planner informed: `PRAGMA
//! optimize` gathers statistics for the tables that grew since (the writer
//! runs it once with a bound when it connects, too). Without them SQLite
//! may drive a filtered search from the wrong index — 0.5 s instead of
//! 0.07 s for a skills filter over 100 000 projects. PostgreSQL's
//! autovacuum does this there.

use serde::{Deserialize, Serialize};

use super::{JobKind, Priority};
use crate::state::AppState;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OptimizeDb {}

#[async_trait::async_trait]
impl JobKind for OptimizeDb {
    const KIND: &'static str = "db.optimize";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::Low;

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        if state.db.backend() == plaza_platform::db::Backend::Sqlite {
            sqlx::query("PRAGMA optimize")
                .execute(state.db.writer())
                .await?;
        }
        Ok(())
    }
}
