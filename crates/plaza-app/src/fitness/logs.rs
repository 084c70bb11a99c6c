//! What I did, ate and weighed.

use plaza_core::{MealId, MeasurementId, PlanId, Timestamp, WorkoutId};

use super::error::{FitnessError, invalid};
use super::model::Meal;
use super::planner::{self};
use super::plans::check_meal;
use super::records::{MealLog, Measurement, Workout, WorkoutKind, WorkoutSet};
use super::service::{ASSUMED_WEIGHT_KG, body, profile, within};
use super::store;
use crate::http::AuthUser;
use crate::state::AppState;

/// A workout to log.
#[derive(Debug)]
pub struct NewWorkout {
    pub kind: WorkoutKind,
    pub plan_id: Option<PlanId>,
    /// Unset: now.
    pub performed_at: Option<Timestamp>,
    pub duration_min: i64,
    pub effort: Option<i64>,
    pub notes: String,
    pub sets: Vec<WorkoutSet>,
}

/// Logs a workout, its energy estimated with my weight on the day.
pub async fn log_workout(
    state: &AppState,
    me: &AuthUser,
    new: NewWorkout,
) -> Result<Workout, FitnessError> {
    let now = state.clock.now();
    let at = new.performed_at.unwrap_or(now);
    if at > now.saturating_add(std::time::Duration::from_secs(300)) {
        return Err(invalid("performed_at", "must not be in the future"));
    }
    within("duration_min", new.duration_min, 1, 600)?;
    if let Some(e) = new.effort {
        within("effort", e, 1, 10)?;
    }
    if new.notes.chars().count() > 2000 {
        return Err(invalid("notes", "at most 2000 characters"));
    }
    if new.sets.len() > 200 {
        return Err(invalid("sets", "at most 200 sets"));
    }
    for s in &new.sets {
        let name = s.exercise.trim();
        let fine = !name.is_empty()
            && name.chars().count() <= 120
            && s.reps.is_none_or(|r| (1..=1000).contains(&r))
            && s.weight_g.is_none_or(|w| (0..=1_000_000).contains(&w))
            && s.duration_sec.is_none_or(|d| (1..=36_000).contains(&d))
            && (s.reps.is_some() || s.duration_sec.is_some());
        if !fine {
            return Err(invalid(
                "sets",
                "each names its exercise and has reps (1–1000) or a duration; loads 0–1000 kg",
            ));
        }
    }
    let mut work = state.work().await?;
    if let Some(plan) = new.plan_id
        && store::plan(&mut work, me.user_id, plan).await?.is_none()
    {
        return Err(FitnessError::PlanNotFound);
    }
    let weight = store::weight_at(&mut work, me.user_id, at).await?;
    let kg = weight.map_or(ASSUMED_WEIGHT_KG, |g| g as f64 / 1000.0);
    let workout = Workout {
        id: WorkoutId::new(),
        user_id: me.user_id,
        plan_id: new.plan_id,
        kind: new.kind,
        performed_at: at,
        duration_min: new.duration_min,
        effort: new.effort,
        calories: planner::calories(new.kind.met(new.effort), kg, new.duration_min),
        notes: new.notes,
        sets: new
            .sets
            .into_iter()
            .map(|s| WorkoutSet {
                exercise: s.exercise.trim().to_owned(),
                ..s
            })
            .collect(),
        created_at: now,
    };
    store::insert_workout(&mut work, &workout).await?;
    work.commit().await?;
    Ok(workout)
}

pub async fn workouts(
    state: &AppState,
    me: &AuthUser,
    limit: i64,
    offset: i64,
) -> Result<Vec<Workout>, FitnessError> {
    let mut conn = state.db.fresh().acquire().await?;
    Ok(store::workouts(&mut conn, me.user_id, limit, offset).await?)
}

/// Logs a meal.
pub async fn log_meal(
    state: &AppState,
    me: &AuthUser,
    meal: Meal,
    eaten_at: Option<Timestamp>,
) -> Result<MealLog, FitnessError> {
    check_meal(&meal).map_err(|why| invalid("meal", why))?;
    let now = state.clock.now();
    let eaten_at = eaten_at.unwrap_or(now);
    if eaten_at > now.saturating_add(std::time::Duration::from_secs(300)) {
        return Err(invalid("eaten_at", "must not be in the future"));
    }
    let log = MealLog {
        id: MealId::new(),
        user_id: me.user_id,
        eaten_at,
        meal: Meal {
            name: meal.name.trim().to_owned(),
            ..meal
        },
        created_at: now,
    };
    let mut work = state.work_one().await?;
    store::insert_meal(&mut work, &log).await?;
    work.commit().await?;
    Ok(log)
}

/// A day's meals against the targets my profile gives.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MealDayReport {
    /// The day, in my time zone.
    #[schema(value_type = String, format = Date)]
    pub date: jiff::civil::Date,
    pub meals: Vec<MealLog>,
    pub totals: super::model::Targets,
    pub targets: super::model::Targets,
}

pub async fn meal_day(
    state: &AppState,
    me: &AuthUser,
    date: Option<jiff::civil::Date>,
) -> Result<MealDayReport, FitnessError> {
    let p = profile(state, me).await?;
    let targets = planner::targets(&p, body(state, &p).await?);
    let mut conn = state.db.fresh().acquire().await?;
    let (_, zone) = crate::users::service::time_zone(&mut conn, me.user_id).await?;
    let date = date.unwrap_or_else(|| state.clock.now().date_in(&zone));
    let start = |d: jiff::civil::Date| {
        d.to_zoned(zone.clone())
            .map(|z| Timestamp::from_jiff(z.timestamp()))
            .map_err(|e| invalid("date", e.to_string()))
    };
    let next = date
        .tomorrow()
        .map_err(|e| invalid("date", e.to_string()))?;
    let meals = store::meals(&mut conn, me.user_id, start(date)?, start(next)?).await?;
    let sum = |f: fn(&Meal) -> i64| meals.iter().map(|m| f(&m.meal)).sum();
    let totals = super::model::Targets {
        calories: sum(|m| m.calories),
        protein_g: sum(|m| m.protein_g),
        carbs_g: sum(|m| m.carbs_g),
        fat_g: sum(|m| m.fat_g),
    };
    Ok(MealDayReport {
        date,
        meals,
        totals,
        targets,
    })
}

/// A measurement to keep.
#[derive(Debug, Default)]
pub struct NewMeasurement {
    pub measured_at: Option<Timestamp>,
    pub weight_g: Option<i64>,
    pub waist_mm: Option<i64>,
    pub hips_mm: Option<i64>,
    pub chest_mm: Option<i64>,
    pub body_fat_permille: Option<i64>,
}

pub async fn measure(
    state: &AppState,
    me: &AuthUser,
    new: NewMeasurement,
) -> Result<Measurement, FitnessError> {
    let now = state.clock.now();
    let opt = |field, v: Option<i64>, min, max| v.map(|v| within(field, v, min, max)).transpose();
    let m = Measurement {
        id: MeasurementId::new(),
        user_id: me.user_id,
        measured_at: new.measured_at.unwrap_or(now),
        weight_g: opt("weight_g", new.weight_g, 20_000, 400_000)?,
        waist_mm: opt("waist_mm", new.waist_mm, 300, 3000)?,
        hips_mm: opt("hips_mm", new.hips_mm, 300, 3000)?,
        chest_mm: opt("chest_mm", new.chest_mm, 300, 3000)?,
        body_fat_permille: opt("body_fat_permille", new.body_fat_permille, 10, 700)?,
        created_at: now,
    };
    if [
        m.weight_g,
        m.waist_mm,
        m.hips_mm,
        m.chest_mm,
        m.body_fat_permille,
    ]
    .iter()
    .all(Option::is_none)
    {
        return Err(FitnessError::Invalid {
            field: "weight_g",
            reason: "a measurement needs at least one value".into(),
        });
    }
    if m.measured_at > now.saturating_add(std::time::Duration::from_secs(300)) {
        return Err(invalid("measured_at", "must not be in the future"));
    }
    let mut work = state.work_one().await?;
    store::insert_measurement(&mut work, &m).await?;
    work.commit().await?;
    Ok(m)
}

pub async fn measurements(
    state: &AppState,
    me: &AuthUser,
) -> Result<Vec<Measurement>, FitnessError> {
    let mut conn = state.db.fresh().acquire().await?;
    Ok(store::measurements(&mut conn, me.user_id).await?)
}
