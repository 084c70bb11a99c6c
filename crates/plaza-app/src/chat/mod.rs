//! Chats (issue 4): direct chats, groups and their channels, members with
//! roles, and messages with a per-chat gapless `seq`. So far: the model, seed
//! 001's REST surface, members and roles, edits, tombstones and reads;
//! reactions, search, seed 002's paths and the WebSocket hub build on it.

pub mod attachments;
pub mod events;
mod handlers;
mod manage;
pub mod members;
pub(crate) mod message_store;
pub(crate) mod messages;
pub mod model;
pub(crate) mod params;
pub mod reactions;
mod search;
pub mod service;
pub(crate) mod store;
mod threads;
mod v1;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_chat, handlers::list_chats))
        .routes(routes!(handlers::get_chat))
        .routes(routes!(handlers::list_messages, handlers::send_message))
        .routes(routes!(manage::edit_message, manage::delete_message))
        .routes(routes!(manage::list_members, manage::add_members))
        .routes(routes!(manage::change_role, manage::remove_member))
        .routes(routes!(manage::leave))
        .routes(routes!(manage::mute))
        .routes(routes!(manage::join))
        .routes(routes!(manage::list_channels))
        .routes(routes!(manage::mark_read))
        .routes(routes!(v1::send))
        .routes(routes!(v1::group_messages))
        .routes(routes!(v1::add_reaction, v1::remove_reaction))
        .routes(routes!(threads::list_replies))
        .routes(routes!(threads::mark_thread_read))
        .routes(routes!(search::search_messages))
}
