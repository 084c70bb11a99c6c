//! Seed 003's notification jobs for fitness: a workout reminder at the
//! time each person chose, in their time zone, on the training days of
//! their latest plan (or of the offline planner's week) when nothing is
//! logged yet and they are not in quiet hours; and a weekly report on
//! Monday morning, local time. Each is sent once per day / week however
//! often the jobs run (a local date is marked in the same commit).

use jiff::civil::{Date, Time};
use plaza_core::{Timestamp, UserId};
use plaza_platform::jobs::JobKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{PlanDay, WorkoutWeek};
use super::records::PlanKind;
use super::reminder_store::{self, Reminded};
use super::{analytics, planner, service, store};
use crate::notifications::{self, Notice};
use crate::state::AppState;

/// A reminder is sent within this long after its time, not later (a
/// missed run does not remind at midnight).
const WINDOW_MINUTES: i64 = 120;
/// The hour of Monday, local time, from which the week's report goes.
const REPORT_HOUR: i8 = 8;
const PAGE: i64 = 500;

/// Every 15 minutes: who is due a reminder now.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reminders {}

#[async_trait::async_trait]
impl JobKind for Reminders {
    type Context = AppState;
    const KIND: &'static str = "fitness.reminders";
    const QUEUE: &'static str = "notifications";

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        each(state, |state, who, now| async move {
            remind(&state, &who, now).await
        })
        .await
    }
}

/// Hourly: whose Monday morning it is, for last week's report.
#[derive(Debug, Serialize, Deserialize)]
pub struct WeeklyReports {}

#[async_trait::async_trait]
impl JobKind for WeeklyReports {
    type Context = AppState;
    const KIND: &'static str = "fitness.weekly_reports";
    const QUEUE: &'static str = "notifications";

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        each(state, |state, who, now| async move {
            report(&state, &who, now).await
        })
        .await
    }
}

/// Runs `f` for every live person with a profile, a page at a time.
async fn each<F, Fut>(state: &AppState, f: F) -> anyhow::Result<()>
where
    F: Fn(AppState, Reminded, Timestamp) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let now = state.clock.now();
    let mut after: Option<UserId> = None;
    loop {
        let page = {
            let mut conn = state.db.reader().acquire().await?;
            reminder_store::page(&mut conn, after, PAGE).await?
        };
        let done = page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
        for who in page {
            after = Some(who.user_id);
            let user = who.user_id;
            if let Err(e) = f(state.clone(), who, now).await {
                tracing::warn!(user = %user, error = %e, "a fitness notice failed");
            }
        }
        if done {
            return Ok(());
        }
    }
}

async fn remind(state: &AppState, who: &Reminded, now: Timestamp) -> anyhow::Result<()> {
    let Some(at) = who
        .reminder_time
        .as_deref()
        .and_then(|t| t.parse::<Time>().ok())
    else {
        return Ok(());
    };
    let zone = crate::users::fields::zone(&who.timezone);
    let local = now.as_jiff().to_zoned(zone.clone());
    let today = local.date();
    let minutes = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
    let since = minutes(local.time()) - minutes(at);
    let day = today.to_string();
    if !(0..=WINDOW_MINUTES).contains(&since) || who.reminded_on.as_deref() == Some(day.as_str()) {
        return Ok(());
    }
    let (trained, quiet, week) = {
        let mut conn = state.db.reader().acquire().await?;
        let start = Timestamp::start_of(today, &zone)?;
        let (done_today, _, _) = store::workout_totals(&mut conn, who.user_id, Some(start)).await?;
        let quiet = notifications::service::is_quiet(&mut conn, who.user_id, now).await?;
        let plan = store::plans(&mut conn, who.user_id, Some(PlanKind::Workout), 1).await?;
        let week = plan
            .into_iter()
            .next()
            .and_then(|p| serde_json::from_value::<WorkoutWeek>(p.body).ok());
        (done_today > 0, quiet, week)
    };
    if quiet {
        // Not now; a later run within the window may still remind.
        return Ok(());
    }
    let week = match week {
        Some(w) => w,
        None => planner::workout(&service::profile_of(state, who.user_id).await?),
    };
    let weekday = i64::from(today.weekday().to_monday_one_offset());
    let planned = week.days.iter().find(|d| d.weekday == weekday);
    let mut work = state.work().await?;
    // Marked either way, so a rest day or a done workout is looked at once.
    if !reminder_store::mark_reminded(&mut work, who.user_id, &day).await? {
        return Ok(());
    }
    if let (Some(planned), false) = (planned, trained) {
        let notice = reminder(planned);
        let key = format!("fitness.reminder:{day}");
        notifications::send_once(&mut work, &key, &[who.user_id], &notice).await?;
    }
    work.commit().await?;
    Ok(())
}

fn reminder(day: &PlanDay) -> Notice {
    let minutes: i64 = day
        .exercises
        .iter()
        .map(|e| e.sets * (e.duration_sec.unwrap_or(40) + e.rest_sec))
        .sum::<i64>()
        / 60;
    Notice {
        kind: "fitness.workout_reminder".into(),
        title: Some("Time to train".into()),
        body: Some(format!(
            "Today is {}: {} exercises, about {} minutes.",
            day.focus.replace('_', " "),
            day.exercises.len(),
            minutes.max(10)
        )),
        data: json!({"weekday": day.weekday, "focus": day.focus}),
    }
}

async fn report(state: &AppState, who: &Reminded, now: Timestamp) -> anyhow::Result<()> {
    let zone = crate::users::fields::zone(&who.timezone);
    let local = now.as_jiff().to_zoned(zone.clone());
    let today = local.date();
    let monday = today.to_string();
    if today.weekday() != jiff::civil::Weekday::Monday
        || local.hour() < REPORT_HOUR
        || who.reported_on.as_deref() == Some(monday.as_str())
    {
        return Ok(());
    }
    let week_ago = |weeks: i64| -> anyhow::Result<Timestamp> {
        let d: Date = today.checked_sub(jiff::Span::new().weeks(weeks))?;
        Ok(Timestamp::start_of(d, &zone)?)
    };
    let (this, last, before) = (week_ago(0)?, week_ago(1)?, week_ago(2)?);
    let totals = {
        let mut conn = state.db.reader().acquire().await?;
        let mut sums = Vec::new();
        for from in [this, last, before] {
            sums.push(store::workout_totals(&mut conn, who.user_id, Some(from)).await?);
        }
        sums
    };
    let (n, minutes, kcal) = (
        totals[1].0 - totals[0].0,
        totals[1].2 - totals[0].2,
        totals[1].1 - totals[0].1,
    );
    let before_n = totals[2].0 - totals[1].0;
    let stats = analytics::of(state, who.user_id).await?;
    let weight = stats
        .progress
        .current_weight_kg
        .map(|kg| format!(" You weigh {kg:.1} kg."))
        .unwrap_or_default();
    let body = format!(
        "Last week: {n} workouts, {minutes} minutes, about {kcal} kcal (the week before: \
         {before_n}). Streak: {} days.{weight}",
        stats.workouts.streak_days
    );
    let notice = Notice {
        kind: "fitness.weekly_report".into(),
        title: Some(format!("Your week: {n} workouts")),
        body: Some(body),
        data: json!({"week_of": last.date_in(&zone).to_string(), "workouts": n, "minutes": minutes, "calories": kcal}),
    };
    let mut work = state.work().await?;
    if reminder_store::mark_reported(&mut work, who.user_id, &monday).await? {
        let key = format!("fitness.report:{monday}");
        notifications::send_once(&mut work, &key, &[who.user_id], &notice).await?;
    }
    work.commit().await?;
    Ok(())
}
