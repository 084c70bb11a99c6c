//! Mind Space (seed 000): meditation sessions — start, end, history —
//! cached stats, closing sessions left open, analytics from a batch
//! roll-up (per person or platform-wide), and group meditation rooms over
//! WebSocket. See docs/meditation.md.

mod analytics;
mod close;
pub mod error;
mod handlers;
pub mod model;
mod platform;
mod record;
mod rollup;
pub mod rooms;
pub mod service;
mod stats;
mod store;
mod tally;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use analytics::{Analytics, Range, Scope, report};
pub use close::CloseStaleSessions;
pub use error::MeditationError;
pub use model::{MAX_SESSION_SEC, Session, SessionType};
pub use rollup::{RollUp, roll_up};
pub use rooms::{EndRound, Rooms};
pub use stats::{Stats, stats, streaks};
pub use tally::Period;

pub fn router() -> OpenApiRouter<AppState> {
    use rooms::handlers as room;
    OpenApiRouter::new()
        .routes(routes!(handlers::start))
        .routes(routes!(handlers::end))
        .routes(routes!(handlers::history))
        .routes(routes!(handlers::stats))
        .routes(routes!(handlers::daily))
        .routes(routes!(handlers::weekly))
        .routes(routes!(handlers::monthly))
        .routes(routes!(room::list, room::create))
        .routes(routes!(room::get, room::close))
        .routes(routes!(room::invite))
        .routes(routes!(rooms::socket::connect))
}
