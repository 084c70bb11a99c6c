//! Mind Space (seed 000, issue 6, in progress): meditation sessions — start,
//! end, history — and cached stats. Still to come: analytics roll-ups,
//! group rooms over WebSocket, and closing sessions left open.

mod handlers;
mod stats;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use handlers::{Session, SessionType};
pub use stats::{Stats, streaks};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::start))
        .routes(routes!(handlers::end))
        .routes(routes!(handlers::history))
        .routes(routes!(stats::stats))
}
