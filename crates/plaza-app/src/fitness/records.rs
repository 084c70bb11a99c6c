//! What a FitSync user keeps: plans, workouts done, meals eaten and body
//! measurements, as the API shows them.

use plaza_core::{MealId, MeasurementId, PlanId, Timestamp, UserId, WorkoutId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::Meal;

plaza_core::text_enum!(
    /// A plan of workouts or of meals.
    PlanKind { Workout => "workout", Meal => "meal" }
);

plaza_core::text_enum!(
    /// What a workout was, for its energy estimate.
    WorkoutKind {
        Strength => "strength",
        Cardio => "cardio",
        Hiit => "hiit",
        Mobility => "mobility",
        Sport => "sport",
    }
);

impl WorkoutKind {
    /// The Compendium of Physical Activities' MET for the kind, at the
    /// effort given (1–10; 5 when unsaid).
    pub fn met(self, effort: Option<i64>) -> f64 {
        let base = match self {
            Self::Strength => 5.0,
            Self::Cardio => 8.0,
            Self::Hiit => 8.0,
            Self::Mobility => 2.5,
            Self::Sport => 7.0,
        };
        // Effort moves it ±30 % around the middle.
        let effort = effort.unwrap_or(5).clamp(1, 10) as f64;
        base * (0.7 + 0.6 * (effort - 1.0) / 9.0)
    }
}

/// A workout or meal plan; `body` is its week (`WorkoutWeek`, `MealWeek`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Plan {
    #[schema(value_type = String, format = Uuid)]
    pub id: PlanId,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub kind: PlanKind,
    pub name: String,
    /// `offline` (plaza's planner), `manual`, or the model that wrote it.
    pub provider: String,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// One set done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkoutSet {
    pub exercise: String,
    pub reps: Option<i64>,
    /// The load, grams.
    pub weight_g: Option<i64>,
    pub duration_sec: Option<i64>,
}

/// A workout done.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Workout {
    #[schema(value_type = String, format = Uuid)]
    pub id: WorkoutId,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub plan_id: Option<PlanId>,
    pub kind: WorkoutKind,
    #[schema(value_type = String, format = DateTime)]
    pub performed_at: Timestamp,
    pub duration_min: i64,
    /// Perceived effort, 1–10.
    pub effort: Option<i64>,
    /// Estimated: MET × body weight × hours.
    pub calories: i64,
    pub notes: String,
    pub sets: Vec<WorkoutSet>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A meal eaten.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MealLog {
    #[schema(value_type = String, format = Uuid)]
    pub id: MealId,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub eaten_at: Timestamp,
    #[serde(flatten)]
    pub meal: Meal,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Body weight and measurements at a time (metric integers).
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Measurement {
    #[schema(value_type = String, format = Uuid)]
    pub id: MeasurementId,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub measured_at: Timestamp,
    pub weight_g: Option<i64>,
    pub waist_mm: Option<i64>,
    pub hips_mm: Option<i64>,
    pub chest_mm: Option<i64>,
    /// Body fat in tenths of a percent (185 = 18.5 %).
    pub body_fat_permille: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}
