//! FitSync (seed 003, issue 18): fitness profiles, workout and meal plans
//! from plaza's offline planner or written by hand, workouts and meals
//! logged, body measurements, `GET /api/analytics/user`, and workout
//! reminders and weekly reports. The AI coach is `coach/`. See
//! docs/fitness.md.

pub mod analytics;
pub mod error;
mod handlers;
pub mod logs;
pub mod model;
pub mod planner;
pub mod plans;
pub mod records;
mod reminder_store;
pub mod reminders;
pub mod service;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use error::FitnessError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::get_profile, handlers::put_profile))
        .routes(routes!(handlers::create_plan, handlers::list_plans))
        .routes(routes!(handlers::get_plan, handlers::delete_plan))
        .routes(routes!(handlers::log_workout, handlers::list_workouts))
        .routes(routes!(handlers::log_meal, handlers::meal_day))
        .routes(routes!(handlers::measure, handlers::list_measurements))
        .routes(routes!(handlers::user_analytics))
}
