//! Seed 003's analytics queue for the coach: what AI requests cost, per
//! model and outcome, over a window — for the admin
//! (`GET /api/admin/ai/usage`) and as gauges refreshed by an hourly job,
//! so a dashboard shows the last day's spend without a query of its own.

use plaza_core::Timestamp;
use plaza_platform::jobs::JobKind;
use serde::{Deserialize, Serialize};

pub use super::model::UsageRow;
use super::store;
use crate::http::AdminUser;
use crate::state::AppState;

/// The requests of the last `hours` hours, by model and outcome.
pub async fn usage(
    state: &AppState,
    _admin: AdminUser,
    hours: u32,
) -> Result<Vec<UsageRow>, super::CoachError> {
    if !(1..=24 * 90).contains(&hours) {
        return Err(super::error::invalid("hours", "1 to 2160"));
    }
    let since = state
        .clock
        .now()
        .saturating_sub(std::time::Duration::from_secs(u64::from(hours) * 3600));
    rows_since(state, since).await
}

async fn rows_since(
    state: &AppState,
    since: Timestamp,
) -> Result<Vec<UsageRow>, super::CoachError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::usage_since(&mut conn, since).await?)
}

/// Hourly, on `analytics`: the last day's usage as gauges.
#[derive(Debug, Serialize, Deserialize)]
pub struct UsageGauges {}

#[async_trait::async_trait]
impl JobKind for UsageGauges {
    type Context = AppState;
    const KIND: &'static str = "ai.usage";
    const QUEUE: &'static str = "analytics";

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let since = state
            .clock
            .now()
            .saturating_sub(std::time::Duration::from_secs(86_400));
        let rows = rows_since(state, since).await?;
        let mut cost = 0i64;
        for r in &rows {
            metrics::gauge!("plaza_ai_requests_24h", "provider" => r.provider.clone(), "status" => r.status.clone())
                .set(r.requests as f64);
            metrics::gauge!("plaza_ai_cost_24h_micro_usd", "provider" => r.provider.clone(), "status" => r.status.clone())
                .set(r.cost_micros as f64);
            cost += r.cost_micros;
        }
        tracing::info!(
            cost_usd = cost as f64 / 1e6,
            rows = rows.len(),
            "AI usage, last 24 hours"
        );
        Ok(())
    }
}
