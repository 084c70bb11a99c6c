//! The freelance marketplace (seed 001's project service): projects with
//! full-text search, their statuses, and responses (proposals) whose
//! acceptance opens a chat and notifies both sides. See docs/projects.md.

mod accepted;
pub mod closing;
pub mod error;
mod handlers;
pub mod model;
pub mod responses;
pub mod rules;
pub mod search;
pub mod service;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use accepted::Accepted;
pub use closing::Closing;
pub use error::ProjectsError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::search, handlers::create))
        .routes(routes!(handlers::get, handlers::update, handlers::delete))
        .routes(routes!(handlers::list_responses, handlers::create_response))
        .routes(routes!(handlers::update_response))
}
