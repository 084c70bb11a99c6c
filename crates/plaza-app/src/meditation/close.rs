//! The job that closes sessions left open (an app closed mid-session)
//! once they pass the maximum length: each is ended at its start plus the
//! maximum, so it counts as that long and not as days, and its
//! `meditation.session.ended` event says `closed_by: "timeout"`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::model::MAX_SESSION_SEC;
use super::record::{self, EndedBy};
use super::store;
use crate::state::AppState;
use plaza_platform::jobs::{JobKind, Priority};

/// Sessions closed per run (the next run takes the rest).
const BATCH: i64 = 500;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CloseStaleSessions {}

#[async_trait::async_trait]
impl JobKind for CloseStaleSessions {
    type Context = AppState;
    const KIND: &'static str = "meditation.close_stale";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::Low;

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let max = Duration::from_secs(MAX_SESSION_SEC.unsigned_abs());
        let before = state.clock.now().saturating_sub(max);
        let stale = {
            let mut conn = state.db.reader().acquire().await?;
            store::stale(&mut conn, before, BATCH).await?
        };
        for (user, mut session) in stale {
            session.end_at(session.started_at.saturating_add(max));
            let mut tx = state.work().await?;
            if !store::finish(&mut tx, user, &session).await? {
                // Ended by its owner meanwhile.
                continue;
            }
            let now = state.clock.now();
            record::ended(&mut tx, user, &session, EndedBy::Timeout, now).await?;
            tx.commit().await?;
            super::stats::invalidate(state, user).await;
            tracing::info!(
                session_id = %session.id,
                "closed a meditation session left open"
            );
        }
        Ok(())
    }
}
