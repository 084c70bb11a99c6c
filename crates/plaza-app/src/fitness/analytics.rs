//! `GET /api/analytics/user` in seed 003's camelCase shape —
//! `{"workouts": {"total", "totalCalories"}, "progress": {"weightChange"},
//! "aiUsage": {"totalChats"}}` — with what else a fitness user looks for:
//! minutes, this week against last, the streak, records, tokens and cost.

use plaza_core::{Timestamp, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::FitnessError;
use super::store;
use crate::http::AuthUser;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAnalytics {
    pub workouts: WorkoutTotals,
    pub progress: Progress,
    pub ai_usage: AiUsage,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkoutTotals {
    pub total: i64,
    pub total_calories: i64,
    pub total_minutes: i64,
    /// Workouts since Monday, in my time zone.
    pub this_week: i64,
    pub last_week: i64,
    /// Days in a row with a workout, ending today or yesterday.
    pub streak_days: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Kilograms, latest weighing less the first (one decimal); 0 with
    /// fewer than two.
    pub weight_change: f64,
    pub current_weight_kg: Option<f64>,
    pub measurements: i64,
    pub personal_records: Vec<Record>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub exercise: String,
    pub weight_kg: f64,
    pub reps: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AiUsage {
    /// Conversations with the coach.
    pub total_chats: i64,
    pub messages: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// US dollars, from the configured price table.
    pub cost_usd: f64,
}

pub async fn user(state: &AppState, me: &AuthUser) -> Result<UserAnalytics, FitnessError> {
    of(state, me.user_id).await
}

/// `user`'s analytics, for the coach's jobs and the weekly report.
pub async fn of(state: &AppState, user: UserId) -> Result<UserAnalytics, FitnessError> {
    let mut conn = state.db.fresh().acquire().await?;
    let (_, zone) = crate::users::service::time_zone(&mut conn, user).await?;
    let now = state.clock.now();
    let today = now.date_in(&zone);
    let monday = today
        .checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
        .unwrap_or(today);
    let at = |d: jiff::civil::Date| {
        d.to_zoned(zone.clone())
            .map(|z| Timestamp::from_jiff(z.timestamp()))
            .unwrap_or(now)
    };
    let this_monday = at(monday);
    let last_monday = at(monday
        .checked_sub(jiff::Span::new().days(7))
        .unwrap_or(monday));
    let (total, total_calories, total_minutes) =
        store::workout_totals(&mut conn, user, None).await?;
    let (since_this, _, _) = store::workout_totals(&mut conn, user, Some(this_monday)).await?;
    let (since_last, _, _) = store::workout_totals(&mut conn, user, Some(last_monday)).await?;
    let times = store::workout_times(&mut conn, user, 400).await?;
    let weights: Vec<i64> = store::measurements(&mut conn, user)
        .await?
        .iter()
        .filter_map(|m| m.weight_g)
        .collect();
    let measurements = weights.len() as i64;
    let records = store::records(&mut conn, user).await?;
    let (chats, messages, tokens_in, tokens_out, cost) = store::ai_usage(&mut conn, user).await?;
    let kg = |g: i64| (g as f64 / 100.0).round() / 10.0;
    Ok(UserAnalytics {
        workouts: WorkoutTotals {
            total,
            total_calories,
            total_minutes,
            this_week: since_this,
            last_week: since_last - since_this,
            streak_days: streak(&times, &zone, today),
        },
        progress: Progress {
            weight_change: match (weights.first(), weights.last()) {
                (Some(first), Some(last)) if weights.len() > 1 => kg(last - first),
                _ => 0.0,
            },
            current_weight_kg: weights.last().map(|g| kg(*g)),
            measurements,
            personal_records: records
                .into_iter()
                .map(|(exercise, weight_g, reps)| Record {
                    exercise,
                    weight_kg: kg(weight_g),
                    reps,
                })
                .collect(),
        },
        ai_usage: AiUsage {
            total_chats: chats,
            messages,
            tokens_in,
            tokens_out,
            cost_usd: cost as f64 / 1_000_000.0,
        },
    })
}

/// Days in a row with a workout, counting back from today (or from
/// yesterday, when today has none yet).
fn streak(times: &[Timestamp], zone: &jiff::tz::TimeZone, today: jiff::civil::Date) -> i64 {
    let mut days: Vec<jiff::civil::Date> = times.iter().map(|t| t.date_in(zone)).collect();
    days.dedup();
    let mut expect = if days.first() == Some(&today) {
        today
    } else {
        match today.yesterday() {
            Ok(d) => d,
            Err(_) => return 0,
        }
    };
    let mut n = 0;
    for d in days {
        if d == expect {
            n += 1;
            expect = match d.yesterday() {
                Ok(y) => y,
                Err(_) => break,
            };
        } else if d < expect {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streak_counts_consecutive_days_back_from_today_or_yesterday() {
        let zone = jiff::tz::TimeZone::UTC;
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let today: jiff::civil::Date = "2026-12-03".parse().unwrap();
        let times = [
            at("2026-12-03T07:00:00Z"),
            at("2026-12-02T19:00:00Z"),
            at("2026-12-02T07:00:00Z"),
            at("2026-12-01T07:00:00Z"),
            at("2026-11-28T07:00:00Z"),
        ];
        assert_eq!(streak(&times, &zone, today), 3);
        assert_eq!(streak(&times[1..], &zone, today), 2);
        assert_eq!(streak(&times[4..], &zone, today), 0);
        assert_eq!(streak(&[], &zone, today), 0);
    }
}
