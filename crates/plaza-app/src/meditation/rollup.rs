//! The roll-up job (seed 000's "batch processing for analytics"): adds the
//! sessions that ended since the last run to `meditation_daily`, per person
//! and local day, and moves the watermark `rolled_through` on — in one
//! transaction, so a run that fails adds nothing. It stops a minute short
//! of now, so a session whose end was stamped just before a run but
//! committed just after is taken by the next run rather than missed.

use std::collections::HashMap;
use std::time::Duration;

use plaza_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::tally::Tally;
use crate::state::AppState;
use plaza_platform::jobs::{JobKind, Priority};

/// How far behind now a run stops (commits in flight land before it).
pub const SETTLE: Duration = Duration::from_secs(60);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RollUp {}

#[async_trait::async_trait]
impl JobKind for RollUp {
    type Context = AppState;
    const KIND: &'static str = "meditation.rollup";
    const QUEUE: &'static str = "analytics";
    const PRIORITY: Priority = Priority::Low;
    const UNIQUE_FOR: Duration = Duration::from_secs(60);

    fn unique_key(&self) -> Option<String> {
        Some("meditation.rollup".into())
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let rolled = roll_up(state).await?;
        if rolled > 0 {
            tracing::info!(sessions = rolled, "meditation sessions rolled up");
        }
        Ok(())
    }
}

/// The watermark: sessions that ended at or before it are in the roll-up.
pub async fn rolled_through(conn: &mut sqlx::AnyConnection) -> Result<Timestamp, sqlx::Error> {
    sqlx::query_scalar("SELECT rolled_through FROM meditation_rollup WHERE id = 1")
        .fetch_one(conn)
        .await
}

/// A finished session as the roll-up reads it: owner, start, seconds,
/// moods, and the owner's time zone.
type Finished = (UserId, Timestamp, i64, Option<i64>, Option<i64>, String);

/// Days written per statement.
const UPSERT_ROWS: usize = 500;

/// Adds these days' sums to `meditation_daily`, in one statement.
async fn upsert(
    tx: &mut sqlx::AnyConnection,
    days: &[((UserId, jiff::civil::Date), Tally)],
) -> Result<(), sqlx::Error> {
    let rows: Vec<String> = (0..days.len())
        .map(|i| format!("({})", plaza_platform::db::placeholders(i * 6 + 1, 6)))
        .collect();
    let sql = format!(
        "INSERT INTO meditation_daily (user_id, day, sessions, seconds, mood_delta_sum, mood_count) \
         VALUES {} ON CONFLICT (user_id, day) DO UPDATE SET \
         sessions = meditation_daily.sessions + excluded.sessions, \
         seconds = meditation_daily.seconds + excluded.seconds, \
         mood_delta_sum = meditation_daily.mood_delta_sum + excluded.mood_delta_sum, \
         mood_count = meditation_daily.mood_count + excluded.mood_count",
        rows.join(", ")
    );
    // Only numbered placeholders are spliced in; the values are bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for ((user, day), sum) in days {
        query = query
            .bind(*user)
            .bind(day.to_string())
            .bind(sum.sessions)
            .bind(sum.seconds)
            .bind(sum.deltas)
            .bind(sum.moods);
    }
    query.execute(tx).await?;
    Ok(())
}

/// One run; how many sessions it rolled up.
pub async fn roll_up(state: &AppState) -> Result<u64, sqlx::Error> {
    let until = state.clock.now().saturating_sub(SETTLE);
    let mut tx = state.db.begin().await?;
    if state.db.backend() == plaza_platform::db::Backend::Postgres {
        // One run at a time, whatever the queue does.
        sqlx::query("SELECT rolled_through FROM meditation_rollup WHERE id = 1 FOR UPDATE")
            .execute(&mut *tx)
            .await?;
    }
    let since = rolled_through(&mut tx).await?;
    if until <= since {
        return Ok(0);
    }
    let rows: Vec<Finished> = sqlx::query_as(
        "SELECT s.user_id, s.started_at, s.duration_sec, s.mood_before, s.mood_after, u.timezone \
         FROM meditation_sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.ended_at > $1 AND s.ended_at <= $2",
    )
    .bind(since)
    .bind(until)
    .fetch_all(&mut *tx)
    .await?;
    let mut zones: HashMap<String, jiff::tz::TimeZone> = HashMap::new();
    let mut sums: HashMap<(UserId, jiff::civil::Date), Tally> = HashMap::new();
    for (user, started_at, seconds, before, after, tz) in &rows {
        let zone = zones
            .entry(tz.clone())
            .or_insert_with(|| crate::users::fields::zone(tz));
        let day = started_at.date_in(zone);
        sums.entry((*user, day))
            .or_default()
            .add_session(*seconds, *before, *after);
    }
    let sums: Vec<((UserId, jiff::civil::Date), Tally)> = sums.into_iter().collect();
    for chunk in sums.chunks(UPSERT_ROWS) {
        upsert(&mut tx, chunk).await?;
    }
    sqlx::query("UPDATE meditation_rollup SET rolled_through = $1 WHERE id = 1")
        .bind(until)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.len() as u64)
}
