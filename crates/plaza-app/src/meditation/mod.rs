//! Mind Space (seed 000, issue 6, in progress): meditation sessions — start,
//! end, history — cached stats, and closing sessions left open. Still to
//! come: analytics roll-ups and group rooms over WebSocket.

mod analytics;
mod close;
mod handlers;
mod rollup;
mod stats;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use close::CloseStaleSessions;
pub use handlers::{MAX_SESSION_SEC, Session, SessionType};
pub use rollup::{RollUp, roll_up};
pub use stats::{Stats, streaks};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::start))
        .routes(routes!(handlers::end))
        .routes(routes!(handlers::history))
        .routes(routes!(stats::stats))
        .routes(routes!(analytics::daily))
        .routes(routes!(analytics::weekly))
        .routes(routes!(analytics::monthly))
}
