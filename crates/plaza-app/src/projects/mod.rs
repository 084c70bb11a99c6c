//! The freelance marketplace (seed 001's project service): projects with
//! full-text search, their statuses, and responses (proposals) whose
//! acceptance opens a chat and notifies both sides. See docs/projects.md.

mod accepted;
mod handlers;
pub mod model;
mod responses;
mod search;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use accepted::Accepted;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search::search, handlers::create))
        .routes(routes!(handlers::get, handlers::update, handlers::delete))
        .routes(routes!(responses::list, responses::create))
        .routes(routes!(responses::update))
}
