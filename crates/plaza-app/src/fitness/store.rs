//! FitSync's SQL: profiles, plans, workouts and their sets, meals,
//! measurements, and the sums analytics reads.

use plaza_core::{Timestamp, UserId};
use sqlx::AnyConnection;

use super::model::Profile;
use super::records::{MealLog, Measurement, Plan, PlanKind, Workout, WorkoutKind, WorkoutSet};

fn list<T: std::str::FromStr>(joined: &str) -> Vec<T> {
    joined.split(',').filter_map(|s| s.parse().ok()).collect()
}

fn joined<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    user_id: UserId,
    level: String,
    goals: String,
    equipment: String,
    days_per_week: i64,
    minutes_per_session: i64,
    height_mm: Option<i64>,
    sex: String,
    birth_year: Option<i64>,
    limitations: String,
    units: String,
    reminder_time: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

pub async fn profile(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<Profile>, sqlx::Error> {
    let row: Option<ProfileRow> = sqlx::query_as(
        "SELECT user_id, level, goals, equipment, days_per_week, minutes_per_session, height_mm, \
         sex, birth_year, limitations, units, reminder_time, created_at, updated_at \
         FROM fitness_profiles WHERE user_id = $1",
    )
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| {
        let start = Profile::starting(r.user_id, r.created_at);
        Profile {
            user_id: r.user_id,
            level: r.level.parse().unwrap_or(start.level),
            goals: list(&r.goals),
            equipment: list(&r.equipment),
            days_per_week: r.days_per_week,
            minutes_per_session: r.minutes_per_session,
            height_mm: r.height_mm,
            sex: r.sex.parse().unwrap_or(start.sex),
            birth_year: r.birth_year,
            limitations: r.limitations,
            units: r.units.parse().unwrap_or(start.units),
            reminder_time: r.reminder_time,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }))
}

pub async fn save_profile(conn: &mut AnyConnection, p: &Profile) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO fitness_profiles (user_id, level, goals, equipment, days_per_week, \
         minutes_per_session, height_mm, sex, birth_year, limitations, units, reminder_time, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (user_id) DO UPDATE SET level = excluded.level, goals = excluded.goals, \
         equipment = excluded.equipment, days_per_week = excluded.days_per_week, \
         minutes_per_session = excluded.minutes_per_session, height_mm = excluded.height_mm, \
         sex = excluded.sex, birth_year = excluded.birth_year, limitations = excluded.limitations, \
         units = excluded.units, reminder_time = excluded.reminder_time, \
         updated_at = excluded.updated_at",
    )
    .bind(p.user_id)
    .bind(p.level.as_str())
    .bind(joined(&p.goals))
    .bind(joined(&p.equipment))
    .bind(p.days_per_week)
    .bind(p.minutes_per_session)
    .bind(p.height_mm)
    .bind(p.sex.as_str())
    .bind(p.birth_year)
    .bind(&p.limitations)
    .bind(p.units.as_str())
    .bind(&p.reminder_time)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_plan(conn: &mut AnyConnection, plan: &Plan) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO fitness_plans (id, user_id, kind, name, provider, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(plan.id)
    .bind(plan.user_id)
    .bind(plan.kind.as_str())
    .bind(&plan.name)
    .bind(&plan.provider)
    .bind(plan.body.to_string())
    .bind(plan.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: plaza_core::PlanId,
    user_id: UserId,
    kind: String,
    name: String,
    provider: String,
    body: String,
    created_at: Timestamp,
}

impl From<PlanRow> for Plan {
    fn from(r: PlanRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            kind: r.kind.parse().unwrap_or(PlanKind::Workout),
            name: r.name,
            provider: r.provider,
            body: serde_json::from_str(&r.body).unwrap_or_default(),
            created_at: r.created_at,
        }
    }
}

/// `user`'s plans of `kind`, newest first.
pub async fn plans(
    conn: &mut AnyConnection,
    user: UserId,
    kind: Option<PlanKind>,
    limit: i64,
) -> Result<Vec<Plan>, sqlx::Error> {
    let rows: Vec<PlanRow> = sqlx::query_as(
        "SELECT id, user_id, kind, name, provider, body, created_at FROM fitness_plans \
         WHERE user_id = $1 AND ($2 = '' OR kind = $2) ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(user)
    .bind(kind.map_or("", PlanKind::as_str))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Plan::from).collect())
}

pub async fn plan(
    conn: &mut AnyConnection,
    user: UserId,
    id: plaza_core::PlanId,
) -> Result<Option<Plan>, sqlx::Error> {
    let row: Option<PlanRow> = sqlx::query_as(
        "SELECT id, user_id, kind, name, provider, body, created_at FROM fitness_plans \
         WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Plan::from))
}

pub async fn delete_plan(
    conn: &mut AnyConnection,
    user: UserId,
    id: plaza_core::PlanId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM fitness_plans WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_workout(conn: &mut AnyConnection, w: &Workout) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workout_logs (id, user_id, plan_id, kind, performed_at, duration_min, effort, \
         calories, notes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(w.id)
    .bind(w.user_id)
    .bind(w.plan_id)
    .bind(w.kind.as_str())
    .bind(w.performed_at)
    .bind(w.duration_min)
    .bind(w.effort)
    .bind(w.calories)
    .bind(&w.notes)
    .bind(w.created_at)
    .execute(&mut *conn)
    .await?;
    for (position, set) in w.sets.iter().enumerate() {
        sqlx::query(
            "INSERT INTO workout_sets (log_id, user_id, position, exercise, reps, weight_g, \
             duration_sec) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(w.id)
        .bind(w.user_id)
        .bind(position as i64)
        .bind(&set.exercise)
        .bind(set.reps)
        .bind(set.weight_g)
        .bind(set.duration_sec)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct WorkoutRow {
    id: plaza_core::WorkoutId,
    user_id: UserId,
    plan_id: Option<plaza_core::PlanId>,
    kind: String,
    performed_at: Timestamp,
    duration_min: i64,
    effort: Option<i64>,
    calories: i64,
    notes: String,
    created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SetRow {
    log_id: plaza_core::WorkoutId,
    exercise: String,
    reps: Option<i64>,
    weight_g: Option<i64>,
    duration_sec: Option<i64>,
}

/// `user`'s workouts, newest first, with their sets.
pub async fn workouts(
    conn: &mut AnyConnection,
    user: UserId,
    limit: i64,
    offset: i64,
) -> Result<Vec<Workout>, sqlx::Error> {
    let rows: Vec<WorkoutRow> = sqlx::query_as(
        "SELECT id, user_id, plan_id, kind, performed_at, duration_min, effort, calories, notes, \
         created_at FROM workout_logs WHERE user_id = $1 \
         ORDER BY performed_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let sets: Vec<SetRow> = sqlx::query_as(
        "SELECT s.log_id, s.exercise, s.reps, s.weight_g, s.duration_sec FROM workout_sets s \
         JOIN (SELECT id FROM workout_logs WHERE user_id = $1 \
               ORDER BY performed_at DESC, id DESC LIMIT $2 OFFSET $3) w ON w.id = s.log_id \
         ORDER BY s.log_id, s.position",
    )
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Workout {
            sets: sets
                .iter()
                .filter(|s| s.log_id == r.id)
                .map(|s| WorkoutSet {
                    exercise: s.exercise.clone(),
                    reps: s.reps,
                    weight_g: s.weight_g,
                    duration_sec: s.duration_sec,
                })
                .collect(),
            id: r.id,
            user_id: r.user_id,
            plan_id: r.plan_id,
            kind: r.kind.parse().unwrap_or(WorkoutKind::Strength),
            performed_at: r.performed_at,
            duration_min: r.duration_min,
            effort: r.effort,
            calories: r.calories,
            notes: r.notes,
            created_at: r.created_at,
        })
        .collect())
}

/// The heaviest set per exercise (ties: the most reps), heaviest first.
pub async fn records(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<(String, i64, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT exercise, weight_g, MAX(reps) FROM workout_sets s \
         WHERE user_id = $1 AND weight_g IS NOT NULL AND weight_g = \
           (SELECT MAX(weight_g) FROM workout_sets t WHERE t.user_id = s.user_id AND t.exercise = s.exercise) \
         GROUP BY exercise, weight_g ORDER BY weight_g DESC, exercise",
    )
    .bind(user)
    .fetch_all(&mut *conn)
    .await
}

pub async fn insert_meal(conn: &mut AnyConnection, m: &MealLog) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO meal_logs (id, user_id, eaten_at, name, calories, protein_g, carbs_g, fat_g, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(m.id)
    .bind(m.user_id)
    .bind(m.eaten_at)
    .bind(&m.meal.name)
    .bind(m.meal.calories)
    .bind(m.meal.protein_g)
    .bind(m.meal.carbs_g)
    .bind(m.meal.fat_g)
    .bind(m.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct MealRow {
    id: plaza_core::MealId,
    user_id: UserId,
    eaten_at: Timestamp,
    name: String,
    calories: i64,
    protein_g: i64,
    carbs_g: i64,
    fat_g: i64,
    created_at: Timestamp,
}

/// `user`'s meals eaten in `[from, until)`, in order.
pub async fn meals(
    conn: &mut AnyConnection,
    user: UserId,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<MealLog>, sqlx::Error> {
    let rows: Vec<MealRow> = sqlx::query_as(
        "SELECT id, user_id, eaten_at, name, calories, protein_g, carbs_g, fat_g, created_at \
         FROM meal_logs WHERE user_id = $1 AND eaten_at >= $2 AND eaten_at < $3 \
         ORDER BY eaten_at, id",
    )
    .bind(user)
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MealLog {
            id: r.id,
            user_id: r.user_id,
            eaten_at: r.eaten_at,
            meal: super::model::Meal {
                name: r.name,
                calories: r.calories,
                protein_g: r.protein_g,
                carbs_g: r.carbs_g,
                fat_g: r.fat_g,
            },
            created_at: r.created_at,
        })
        .collect())
}

pub async fn insert_measurement(
    conn: &mut AnyConnection,
    m: &Measurement,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO body_measurements (id, user_id, measured_at, weight_g, waist_mm, hips_mm, \
         chest_mm, body_fat_permille, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(m.id)
    .bind(m.user_id)
    .bind(m.measured_at)
    .bind(m.weight_g)
    .bind(m.waist_mm)
    .bind(m.hips_mm)
    .bind(m.chest_mm)
    .bind(m.body_fat_permille)
    .bind(m.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `user`'s measurements, oldest first.
pub async fn measurements(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<Measurement>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, measured_at, weight_g, waist_mm, hips_mm, chest_mm, \
         body_fat_permille, created_at FROM body_measurements WHERE user_id = $1 \
         ORDER BY measured_at, id",
    )
    .bind(user)
    .fetch_all(&mut *conn)
    .await
}

/// `user`'s latest body weight at or before `at`, in grams.
pub async fn weight_at(
    conn: &mut AnyConnection,
    user: UserId,
    at: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT weight_g FROM body_measurements WHERE user_id = $1 AND measured_at <= $2 \
         AND weight_g IS NOT NULL ORDER BY measured_at DESC, id DESC LIMIT 1",
    )
    .bind(user)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
}

/// Workouts, their calories and minutes since `from` (all with `None`).
pub async fn workout_totals(
    conn: &mut AnyConnection,
    user: UserId,
    from: Option<Timestamp>,
) -> Result<(i64, i64, i64), sqlx::Error> {
    let from = from.unwrap_or(Timestamp::from_unix_seconds(0));
    sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(calories), 0) AS BIGINT), \
         CAST(COALESCE(SUM(duration_min), 0) AS BIGINT) FROM workout_logs \
         WHERE user_id = $1 AND performed_at >= $2",
    )
    .bind(user)
    .bind(from)
    .fetch_one(&mut *conn)
    .await
}

/// When `user` trained, newest first (for the streak).
pub async fn workout_times(
    conn: &mut AnyConnection,
    user: UserId,
    limit: i64,
) -> Result<Vec<Timestamp>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT performed_at FROM workout_logs WHERE user_id = $1 \
         ORDER BY performed_at DESC LIMIT $2",
    )
    .bind(user)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
}

/// `user`'s conversations with the coach, their messages, and the usage
/// of every request (answers and plans):
/// (conversations, messages, tokens in, tokens out, cost in micro-dollars).
pub async fn ai_usage(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<(i64, i64, i64, i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM ai_conversations WHERE user_id = $1), \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM ai_messages WHERE user_id = $1), \
         CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT), \
         CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) \
         FROM ai_requests WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(&mut *conn)
    .await
}
