//! FitSync's use cases for my profile and body; plans are `plans.rs`,
//! workouts, meals and measurements `logs.rs`, analytics `analytics.rs`.

use plaza_core::UserId;

use super::error::{FitnessError, invalid};
use super::model::{Equipment, Goal, Level, Profile, Sex, Units};
use super::planner::Body;
use super::store;
use crate::http::AuthUser;
use crate::state::AppState;

/// The body weight assumed when none was measured (kg).
pub const ASSUMED_WEIGHT_KG: f64 = 70.0;

/// My profile, or the starting one while I have not saved one.
pub async fn profile(state: &AppState, me: &AuthUser) -> Result<Profile, FitnessError> {
    profile_of(state, me.user_id).await
}

/// `user`'s profile, for the coach's jobs (which act for them).
pub async fn profile_of(state: &AppState, user: UserId) -> Result<Profile, FitnessError> {
    let mut conn = state.db.fresh().acquire().await?;
    let found = store::profile(&mut conn, user).await?;
    Ok(found.unwrap_or_else(|| Profile::starting(user, state.clock.now())))
}

/// A profile edit: only the fields given change.
#[derive(Debug, Default)]
pub struct ProfileEdit {
    pub level: Option<Level>,
    pub goals: Option<Vec<Goal>>,
    pub equipment: Option<Vec<Equipment>>,
    pub days_per_week: Option<i64>,
    pub minutes_per_session: Option<i64>,
    pub height_mm: Option<Option<i64>>,
    pub sex: Option<Sex>,
    pub birth_year: Option<Option<i64>>,
    pub limitations: Option<String>,
    pub units: Option<Units>,
    pub reminder_time: Option<Option<String>>,
}

pub async fn save_profile(
    state: &AppState,
    me: &AuthUser,
    edit: ProfileEdit,
) -> Result<Profile, FitnessError> {
    let mut p = profile(state, me).await?;
    let now = state.clock.now();
    if let Some(v) = edit.level {
        p.level = v;
    }
    if let Some(mut goals) = edit.goals {
        goals.dedup();
        if goals.is_empty() || goals.len() > 3 {
            return Err(invalid("goals", "one to three goals"));
        }
        p.goals = goals;
    }
    if let Some(mut kit) = edit.equipment {
        kit.sort_by_key(|e| e.as_str());
        kit.dedup();
        if kit.is_empty() {
            kit.push(Equipment::None);
        }
        p.equipment = kit;
    }
    if let Some(v) = edit.days_per_week {
        p.days_per_week = within("days_per_week", v, 1, 7)?;
    }
    if let Some(v) = edit.minutes_per_session {
        p.minutes_per_session = within("minutes_per_session", v, 10, 240)?;
    }
    if let Some(v) = edit.height_mm {
        p.height_mm = v.map(|h| within("height_mm", h, 500, 2600)).transpose()?;
    }
    if let Some(v) = edit.sex {
        p.sex = v;
    }
    if let Some(v) = edit.birth_year {
        let this_year = i64::from(now.date_in(&jiff::tz::TimeZone::UTC).year());
        p.birth_year = v
            .map(|y| within("birth_year", y, this_year - 110, this_year - 13))
            .transpose()?;
    }
    if let Some(v) = edit.limitations {
        let v = v.trim().to_owned();
        if v.chars().count() > 500 {
            return Err(invalid("limitations", "at most 500 characters"));
        }
        p.limitations = v;
    }
    if let Some(v) = edit.units {
        p.units = v;
    }
    if let Some(v) = edit.reminder_time {
        p.reminder_time = v
            .map(|t| match t.trim().parse::<jiff::civil::Time>() {
                Ok(at) => Ok(format!("{:02}:{:02}", at.hour(), at.minute())),
                Err(_) => Err(invalid("reminder_time", "a time of day such as \"18:00\"")),
            })
            .transpose()?;
    }
    p.updated_at = now;
    let mut work = state.work_one().await?;
    store::save_profile(&mut work, &p).await?;
    work.commit().await?;
    Ok(p)
}

pub(super) fn within(field: &'static str, v: i64, min: i64, max: i64) -> Result<i64, FitnessError> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(invalid(field, format!("between {min} and {max}")))
    }
}

/// My body as the estimates need it: the latest weight, the profile's
/// height and age, with population middles where nothing was said.
pub async fn body(state: &AppState, p: &Profile) -> Result<Body, FitnessError> {
    let mut conn = state.db.fresh().acquire().await?;
    let now = state.clock.now();
    let weight = store::weight_at(&mut conn, p.user_id, now).await?;
    let year = i64::from(now.date_in(&jiff::tz::TimeZone::UTC).year());
    Ok(Body {
        weight_kg: weight.map_or(ASSUMED_WEIGHT_KG, |g| g as f64 / 1000.0),
        height_cm: p.height_mm.map_or(170.0, |mm| mm as f64 / 10.0),
        age: p.birth_year.map_or(30.0, |y| (year - y) as f64),
    })
}
