//! What FitSync (seed 003) is made of: a fitness profile, workout and meal
//! plans, what was done and eaten, and body measurements. Storage is
//! metric integers (grams, millimetres); `units` only changes how answers
//! are written for people.

use plaza_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

plaza_core::text_enum!(
    /// How trained someone is.
    Level { Beginner => "beginner", Intermediate => "intermediate", Advanced => "advanced" }
);

plaza_core::text_enum!(
    /// What someone trains for.
    Goal {
        LoseWeight => "lose_weight",
        BuildMuscle => "build_muscle",
        Strength => "strength",
        Endurance => "endurance",
        Mobility => "mobility",
        Health => "health",
    }
);

plaza_core::text_enum!(
    /// What someone has to train with (`none`: body weight only).
    Equipment {
        None => "none",
        Dumbbells => "dumbbells",
        Barbell => "barbell",
        Kettlebell => "kettlebell",
        Bands => "bands",
        PullupBar => "pullup_bar",
        Bench => "bench",
        Machines => "machines",
        Bike => "bike",
        Treadmill => "treadmill",
    }
);

plaza_core::text_enum!(
    /// For energy estimates (Mifflin–St Jeor differs by sex); `unspecified`
    /// takes the mean of the two.
    Sex { Female => "female", Male => "male", Unspecified => "unspecified" }
);

plaza_core::text_enum!(
    /// How answers write weights and lengths.
    Units { Metric => "metric", Imperial => "imperial" }
);

/// Someone's fitness profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub level: Level,
    pub goals: Vec<Goal>,
    pub equipment: Vec<Equipment>,
    /// 1–7.
    pub days_per_week: i64,
    /// 10–240.
    pub minutes_per_session: i64,
    /// 500–2600.
    pub height_mm: Option<i64>,
    pub sex: Sex,
    pub birth_year: Option<i64>,
    /// Injuries or limits the plans respect (free text, at most 500).
    pub limitations: String,
    pub units: Units,
    /// `"18:00"` in my time zone: on training days without a workout
    /// logged, a reminder then (none while quiet hours last); unset, none.
    pub reminder_time: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Profile {
    /// The profile someone has before they fill theirs in.
    pub fn starting(user_id: UserId, now: Timestamp) -> Self {
        Self {
            user_id,
            level: Level::Beginner,
            goals: vec![Goal::Health],
            equipment: vec![Equipment::None],
            days_per_week: 3,
            minutes_per_session: 45,
            height_mm: None,
            sex: Sex::Unspecified,
            birth_year: None,
            limitations: String::new(),
            units: Units::Metric,
            reminder_time: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn has(&self, equipment: Equipment) -> bool {
        self.equipment.contains(&equipment)
    }
}

/// One exercise of a plan's day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlannedExercise {
    pub name: String,
    pub sets: i64,
    /// Repetitions per set, or…
    pub reps: Option<i64>,
    /// …seconds per set (a plank, a run).
    pub duration_sec: Option<i64>,
    pub rest_sec: i64,
    #[serde(default)]
    pub notes: String,
}

/// One day of a workout plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanDay {
    /// 1 (Monday) – 7 (Sunday).
    pub weekday: i64,
    /// `full_body`, `upper`, `lower`, `push`, `pull`, `legs`, `cardio`,
    /// `mobility`, or a name of the author's.
    pub focus: String,
    pub exercises: Vec<PlannedExercise>,
}

/// A week of training: the plan's days (rest days are the ones absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkoutWeek {
    pub days: Vec<PlanDay>,
    /// How the plan moves on week to week.
    #[serde(default)]
    pub progression: String,
}

/// One meal of a meal plan's day, or one logged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Meal {
    pub name: String,
    pub calories: i64,
    pub protein_g: i64,
    pub carbs_g: i64,
    pub fat_g: i64,
}

/// A day's energy and macro targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Targets {
    pub calories: i64,
    pub protein_g: i64,
    pub carbs_g: i64,
    pub fat_g: i64,
}

/// One day of a meal plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MealDay {
    /// 1 (Monday) – 7 (Sunday).
    pub weekday: i64,
    pub meals: Vec<Meal>,
}

/// A week of meals against daily targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MealWeek {
    pub targets: Targets,
    pub days: Vec<MealDay>,
}
