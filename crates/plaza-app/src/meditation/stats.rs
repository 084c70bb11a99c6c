//! My statistics (seed 000's `GET /api/user/stats`, "cached"): totals, streaks in the
//! person's time zone, sessions by type and the last session. Served from
//! the cache port (in process, or moka + Redis across nodes) for a minute;
//! ending a session deletes the entry on every node, so the next read
//! shows it.

use std::collections::BTreeMap;
use std::time::Duration;

use plaza_core::{Timestamp, UserId};
use plaza_platform::cache::CacheExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::MeditationError;
use super::model::Session;
use crate::http::AuthUser;
use crate::state::AppState;

/// How long computed stats are served without looking again.
const CACHED_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    pub total_sessions: i64,
    /// Finished sessions' minutes, to one decimal.
    pub total_minutes: f64,
    pub average_minutes: f64,
    /// Consecutive days with a session, ending today or yesterday (a day
    /// without one yet today does not break it), in my time zone.
    pub current_streak_days: i64,
    pub longest_streak_days: i64,
    /// `{"breathing": 3, …}`.
    pub sessions_by_type: BTreeMap<String, i64>,
    pub last_session: Option<Session>,
    pub time_zone: String,
    #[schema(value_type = String, format = DateTime)]
    pub computed_at: Timestamp,
}

fn key(user: UserId) -> String {
    format!("meditation:stats:{user}")
}

/// Forgets `user`'s cached stats on every node (after a session ends).
pub async fn invalidate(state: &AppState, user: UserId) {
    state.cache.delete(&key(user)).await;
}

/// My meditation statistics, from the cache when they were computed
/// less than a minute ago.
#[tracing::instrument(skip_all)]
pub async fn stats(state: &AppState, me: AuthUser) -> Result<Stats, MeditationError> {
    if let Some(cached) = state.cache.get_json::<Stats>(&key(me.user_id)).await {
        metrics::counter!("plaza_meditation_stats_total", "cache" => "hit").increment(1);
        return Ok(cached);
    }
    metrics::counter!("plaza_meditation_stats_total", "cache" => "miss").increment(1);
    let stats = compute(state, me.user_id).await?;
    state
        .cache
        .set_json(&key(me.user_id), &stats, CACHED_FOR)
        .await;
    Ok(stats)
}

async fn compute(state: &AppState, user: UserId) -> Result<Stats, MeditationError> {
    let mut conn = state.db.reader().acquire().await?;
    let (time_zone, zone) = crate::users::service::time_zone(&mut conn, user).await?;
    let rows = super::store::ended_sessions(&mut conn, user).await?;
    let last: Option<Session> = super::store::last_ended(&mut conn, user).await?;
    let now = state.clock.now();
    let today = now.date_in(&zone);
    let mut days: Vec<jiff::civil::Date> =
        rows.iter().map(|(at, _, _)| at.date_in(&zone)).collect();
    days.sort_unstable();
    days.dedup();
    let (current, longest) = streaks(&days, today);
    let seconds: i64 = rows.iter().map(|(_, d, _)| d.unwrap_or(0)).sum();
    let total = rows.len() as i64;
    let mut by_type = BTreeMap::new();
    for (_, _, kind) in &rows {
        *by_type.entry(kind.clone()).or_insert(0) += 1;
    }
    let minutes = seconds as f64 / 60.0;
    Ok(Stats {
        total_sessions: total,
        total_minutes: round1(minutes),
        average_minutes: if total == 0 {
            0.0
        } else {
            round1(minutes / total as f64)
        },
        current_streak_days: current,
        longest_streak_days: longest,
        sessions_by_type: by_type,
        last_session: last,
        time_zone,
        computed_at: now,
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The current and longest runs of consecutive days in `days` (sorted,
/// distinct). The current run ends today, or yesterday when today has no
/// session yet.
pub fn streaks(days: &[jiff::civil::Date], today: jiff::civil::Date) -> (i64, i64) {
    let mut longest = 0;
    let mut run = 0;
    let mut previous: Option<jiff::civil::Date> = None;
    for day in days {
        run = match previous {
            Some(p) if p.tomorrow().ok() == Some(*day) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        previous = Some(*day);
    }
    let current = match previous {
        Some(last) if last == today || last.tomorrow().ok() == Some(today) => run,
        _ => 0,
    };
    (current, longest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn streaks_count_consecutive_days_and_survive_an_unfinished_today() {
        let days = [
            date(2026, 10, 28),
            date(2026, 10, 29),
            date(2026, 10, 30),
            date(2026, 11, 2),
            date(2026, 11, 3),
        ];
        assert_eq!(streaks(&days, date(2026, 11, 3)), (2, 3));
        assert_eq!(
            streaks(&days, date(2026, 11, 4)),
            (2, 3),
            "nothing yet today"
        );
        assert_eq!(streaks(&days, date(2026, 11, 5)), (0, 3), "a day missed");
        assert_eq!(streaks(&[], date(2026, 11, 5)), (0, 0));
        // Across a month end.
        assert_eq!(
            streaks(&[date(2026, 10, 31), date(2026, 11, 1)], date(2026, 11, 1)),
            (2, 2)
        );
    }
}
