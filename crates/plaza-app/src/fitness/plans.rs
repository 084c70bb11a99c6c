//! Plans: the offline planner's from my profile, or my own, checked
//! against their kind's shape.

use plaza_core::{PlanId, UserId};
use plaza_platform::Work;

use super::error::{FitnessError, invalid};
use super::model::{Meal, MealWeek, WorkoutWeek};
use super::planner::{self};
use super::records::{Plan, PlanKind};
use super::service::{body, profile_of};
use super::store;
use crate::http::AuthUser;
use crate::state::AppState;

/// A plan the offline planner makes from my profile, kept.
pub async fn generate(
    state: &AppState,
    me: &AuthUser,
    kind: PlanKind,
) -> Result<Plan, FitnessError> {
    let (name, body) = draft(state, me.user_id, kind).await?;
    adopt(state, me.user_id, kind, name, "offline", body).await
}

/// The offline planner's plan of `kind` for `user`, not kept: its name
/// and body.
pub async fn draft(
    state: &AppState,
    user: UserId,
    kind: PlanKind,
) -> Result<(String, serde_json::Value), FitnessError> {
    let p = profile_of(state, user).await?;
    let (name, body) = match kind {
        PlanKind::Workout => {
            let week = planner::workout(&p);
            let name = format!("{} plan, {} days a week", p.level, week.days.len());
            (name, serde_json::to_value(week))
        }
        PlanKind::Meal => {
            let targets = planner::targets(&p, body(state, &p).await?);
            let name = format!("Meals at {} kcal a day", targets.calories);
            (name, serde_json::to_value(planner::meals(targets)))
        }
    };
    Ok((name, body.map_err(|e| invalid("plan", e.to_string()))?))
}

/// A plan I wrote, checked against its kind's shape.
pub async fn write(
    state: &AppState,
    me: &AuthUser,
    kind: PlanKind,
    name: String,
    body: serde_json::Value,
) -> Result<Plan, FitnessError> {
    adopt(state, me.user_id, kind, name, "manual", body).await
}

/// Keeps a plan written elsewhere (by me, or by a model for `user`) once
/// its name and body hold.
pub async fn adopt(
    state: &AppState,
    user: UserId,
    kind: PlanKind,
    name: String,
    provider: &str,
    body: serde_json::Value,
) -> Result<Plan, FitnessError> {
    let mut work = state.work_one().await?;
    let plan = adopt_in(&mut work, user, kind, name, provider, body).await?;
    work.commit().await?;
    Ok(plan)
}

/// [`adopt`] in the caller's unit of work (the coach keeps a model's plan
/// in the commit that finishes its request).
pub async fn adopt_in(
    work: &mut Work<'_>,
    user: UserId,
    kind: PlanKind,
    name: String,
    provider: &str,
    body: serde_json::Value,
) -> Result<Plan, FitnessError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid("name", "1 to 120 characters"));
    }
    check(kind, &body).map_err(|why| invalid("plan", why))?;
    let plan = Plan {
        id: PlanId::new(),
        user_id: user,
        kind,
        name,
        provider: provider.to_owned(),
        body,
        created_at: work.now(),
    };
    store::insert_plan(work, &plan).await?;
    Ok(plan)
}

/// Whether `body` is a plan of `kind`: its shape, then its numbers.
pub fn check(kind: PlanKind, body: &serde_json::Value) -> Result<(), String> {
    match kind {
        PlanKind::Workout => serde_json::from_value::<WorkoutWeek>(body.clone())
            .map_err(|e| e.to_string())
            .and_then(|w| check_workout(&w)),
        PlanKind::Meal => serde_json::from_value::<MealWeek>(body.clone())
            .map_err(|e| e.to_string())
            .and_then(|m| check_meals(&m)),
    }
}

/// Whether a workout week is one: days 1–7 once each, each with
/// exercises of at least one set and reps or a duration.
pub fn check_workout(w: &WorkoutWeek) -> Result<(), String> {
    let mut seen = Vec::new();
    for d in &w.days {
        if !(1..=7).contains(&d.weekday) || seen.contains(&d.weekday) {
            return Err(format!("weekday {} is not 1–7 once", d.weekday));
        }
        seen.push(d.weekday);
        if d.exercises.is_empty() || d.exercises.len() > 30 {
            return Err(format!("day {} needs 1–30 exercises", d.weekday));
        }
        for e in &d.exercises {
            let counted = e.reps.is_some_and(|r| (1..=100).contains(&r));
            let timed = e.duration_sec.is_some_and(|s| (1..=14_400).contains(&s));
            if e.name.trim().is_empty() || !(1..=20).contains(&e.sets) || !(counted || timed) {
                return Err(format!(
                    "`{}`: a name, 1–20 sets, and reps or a duration",
                    e.name
                ));
            }
        }
    }
    if w.days.is_empty() {
        return Err("a plan needs at least one day".into());
    }
    Ok(())
}

/// Whether a meal week is one: days 1–7 once each, meals with sane numbers.
pub fn check_meals(m: &MealWeek) -> Result<(), String> {
    let mut seen = Vec::new();
    for d in &m.days {
        if !(1..=7).contains(&d.weekday) || seen.contains(&d.weekday) {
            return Err(format!("weekday {} is not 1–7 once", d.weekday));
        }
        seen.push(d.weekday);
        for meal in &d.meals {
            check_meal(meal)?;
        }
    }
    if m.days.is_empty() || !(800..=8000).contains(&m.targets.calories) {
        return Err("a plan needs days, and a calorie target of 800–8000".into());
    }
    Ok(())
}

pub(super) fn check_meal(m: &Meal) -> Result<(), String> {
    let ok = !m.name.trim().is_empty()
        && m.name.chars().count() <= 200
        && (0..=10_000).contains(&m.calories)
        && [m.protein_g, m.carbs_g, m.fat_g]
            .iter()
            .all(|g| (0..=1000).contains(g));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}`: a name and calories 0–10000, macros 0–1000 g",
            m.name
        ))
    }
}

pub async fn plans(
    state: &AppState,
    me: &AuthUser,
    kind: Option<PlanKind>,
) -> Result<Vec<Plan>, FitnessError> {
    let mut conn = state.db.fresh().acquire().await?;
    Ok(store::plans(&mut conn, me.user_id, kind, 100).await?)
}

pub async fn plan(state: &AppState, me: &AuthUser, id: PlanId) -> Result<Plan, FitnessError> {
    let mut conn = state.db.fresh().acquire().await?;
    store::plan(&mut conn, me.user_id, id)
        .await?
        .ok_or(FitnessError::PlanNotFound)
}

pub async fn delete_plan(state: &AppState, me: &AuthUser, id: PlanId) -> Result<(), FitnessError> {
    let mut work = state.work_one().await?;
    if !store::delete_plan(&mut work, me.user_id, id).await? {
        return Err(FitnessError::PlanNotFound);
    }
    work.commit().await?;
    Ok(())
}
