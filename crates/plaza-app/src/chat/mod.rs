//! Chats (seeds 001, 002, 004): direct chats, groups and their channels,
//! members with roles, and messages with a per-chat gapless `seq`, threads,
//! reactions, attachments, search, and their events on the bus. The
//! socket's commands (`realtime`) call the same service functions as REST.

pub(crate) mod attachments;
mod changes_store;
pub mod error;
pub mod events;
mod handlers;
mod message_store;
pub mod model;
pub mod reactions;
pub mod request;
pub mod service;
mod store;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ChatError;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::{chats, members, messages, v1};
    OpenApiRouter::new()
        .routes(routes!(chats::create_chat, chats::list_chats))
        .routes(routes!(chats::get_chat))
        .routes(routes!(chats::list_messages, chats::send_message))
        .routes(routes!(messages::edit_message, messages::delete_message))
        .routes(routes!(members::list_members, members::add_members))
        .routes(routes!(members::change_role, members::remove_member))
        .routes(routes!(members::leave))
        .routes(routes!(members::mute))
        .routes(routes!(members::join))
        .routes(routes!(members::list_channels))
        .routes(routes!(chats::mark_read))
        .routes(routes!(v1::send))
        .routes(routes!(v1::group_messages))
        .routes(routes!(v1::add_reaction, v1::remove_reaction))
        .routes(routes!(messages::list_replies))
        .routes(routes!(messages::mark_thread_read))
        .routes(routes!(chats::search_messages))
}
