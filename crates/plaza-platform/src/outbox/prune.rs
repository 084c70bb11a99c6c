//! The hourly job that deletes published (and, while export is on,
//! exported) events older than a week.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::jobs::{JobKind, Priority};
use crate::platform::Platform;

/// How long published events are kept.
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PruneEvents {}

#[async_trait::async_trait]
impl JobKind for PruneEvents {
    type Context = Platform;
    const KIND: &'static str = "events.prune";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::Low;

    async fn run(&self, state: &Platform) -> anyhow::Result<()> {
        let before = state.clock.now().saturating_sub(KEEP);
        let mut conn = state.db.writer().acquire().await?;
        let deleted = super::store::prune(&mut conn, before, state.relay.exporting()).await?;
        if deleted > 0 {
            tracing::info!(deleted, "pruned published events");
        }
        Ok(())
    }
}
