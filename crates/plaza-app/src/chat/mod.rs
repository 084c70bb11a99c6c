//! Chats (issue 4): direct chats, groups and their channels, members with
//! roles, and messages with a per-chat gapless `seq`. This first part holds
//! the model and seed 001's REST surface; threads, reactions, receipts,
//! search and the WebSocket hub build on it.

mod handlers;
pub mod model;
pub mod service;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_chat, handlers::list_chats))
        .routes(routes!(handlers::list_messages, handlers::send_message))
}
