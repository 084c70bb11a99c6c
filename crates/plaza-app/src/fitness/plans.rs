//! Plans: the offline planner's from my profile, or my own, checked
//! against their kind's shape.

use plaza_core::{PlanId, UserId};

use super::error::{FitnessError, invalid};
use super::model::{Meal, MealWeek, WorkoutWeek};
use super::planner::{self};
use super::records::{Plan, PlanKind};
use super::service::{body, profile};
use super::store;
use crate::http::AuthUser;
use crate::state::AppState;

/// A plan the offline planner makes from my profile, kept.
pub async fn generate(
    state: &AppState,
    me: &AuthUser,
    kind: PlanKind,
) -> Result<Plan, FitnessError> {
    let p = profile(state, me).await?;
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
    let body = body.map_err(|e| invalid("plan", e.to_string()))?;
    keep(state, me.user_id, kind, name, "offline", body).await
}

/// A plan I wrote, checked against its kind's shape.
pub async fn write(
    state: &AppState,
    me: &AuthUser,
    kind: PlanKind,
    name: String,
    body: serde_json::Value,
) -> Result<Plan, FitnessError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid("name", "1 to 120 characters"));
    }
    let shape = match kind {
        PlanKind::Workout => serde_json::from_value::<WorkoutWeek>(body.clone())
            .map_err(|e| e.to_string())
            .and_then(|w| check_workout(&w)),
        PlanKind::Meal => serde_json::from_value::<MealWeek>(body.clone())
            .map_err(|e| e.to_string())
            .and_then(|m| check_meals(&m)),
    };
    shape.map_err(|why| invalid("plan", why))?;
    keep(state, me.user_id, kind, name, "manual", body).await
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

async fn keep(
    state: &AppState,
    user: UserId,
    kind: PlanKind,
    name: String,
    provider: &str,
    body: serde_json::Value,
) -> Result<Plan, FitnessError> {
    let plan = Plan {
        id: PlanId::new(),
        user_id: user,
        kind,
        name,
        provider: provider.to_owned(),
        body,
        created_at: state.clock.now(),
    };
    let mut work = state.work_one().await?;
    store::insert_plan(&mut work, &plan).await?;
    work.commit().await?;
    Ok(plan)
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
