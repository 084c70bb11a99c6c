//! The AI coach (seed 003, issue 18): `POST /api/ai/enhanced-chat` and
//! plans on the `ai` queue at the priority asked, answered by any
//! OpenAI-compatible model or, with none configured, by plaza's offline
//! coach; conversations kept per user. See docs/fitness.md.

pub mod answer;
pub mod error;
mod handlers;
pub mod live;
pub mod model;
mod offline;
mod plan;
pub mod prompt;
pub mod service;
mod store;
pub mod usage;

use axum::middleware::from_fn_with_state;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::CoachError;

use crate::http::{LimitClass, ratelimit};
use crate::state::AppState;

/// The routes; asking (a model call each) is also under the `ai` limit
/// (seed 003: 20 a minute per user).
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let asking = OpenApiRouter::new()
        .routes(routes!(handlers::enhanced_chat))
        .routes(routes!(handlers::ask_plan))
        .route_layer(from_fn_with_state(
            (state.clone(), LimitClass::Ai),
            ratelimit::rate_limit,
        ));
    OpenApiRouter::new()
        .merge(asking)
        .routes(routes!(handlers::get_request))
        .routes(routes!(handlers::list_chats))
        .routes(routes!(handlers::get_chat, handlers::delete_chat))
        .routes(routes!(handlers::ai_usage))
}
