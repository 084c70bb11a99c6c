//! Mind Space (seed 000): meditation sessions — start, end, history —
//! cached stats, closing sessions left open, analytics from a batch
//! roll-up (per person or platform-wide), and group meditation rooms over
//! WebSocket. See docs/meditation.md.

mod analytics;
mod close;
mod handlers;
mod platform;
mod record;
mod rollup;
pub mod rooms;
mod stats;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use close::CloseStaleSessions;
pub use handlers::{MAX_SESSION_SEC, Session, SessionType};
pub use rollup::{RollUp, roll_up};
pub use rooms::{EndRound, Rooms};
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
        .routes(routes!(rooms::list, rooms::create))
        .routes(routes!(rooms::get, rooms::close))
        .routes(routes!(rooms::invite))
        .routes(routes!(rooms::socket::connect))
}
