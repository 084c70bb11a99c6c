//! Real-time delivery (issue 4): the WebSocket endpoint `/ws` with seed
//! 002's protocol, the per-node hub that fans chat events out to sockets,
//! and presence. See docs/realtime.md for the protocol.

mod commands;
mod conn;
mod hub;
mod order;
mod presence;
mod socket;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use hub::Hub;

// For other modules' sockets (group meditation): the same upgrade checks,
// authentication, bounded queue, writer and frame conventions.
pub(crate) use commands::{error_data, parse};
pub(crate) use conn::{Close, Conn, Out};
pub(crate) use socket::{
    WRITE_TIMEOUT, WsQuery, accept, authenticate, close_message, too_big, write,
};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(socket::connect))
        .routes(routes!(presence::online_status))
}

/// Sends a `kind` frame to every open socket of `users`, on every node.
/// At most once: what must not be lost is stored and read back over REST.
pub async fn tell_users(
    state: &AppState,
    users: &[plaza_core::UserId],
    kind: &str,
    data: impl Serialize,
) -> Result<(), plaza_platform::bus::BusError> {
    let frame = frame(kind, data);
    state
        .bus
        .publish(hub::USERS_TOPIC, hub::addressed(users, &frame))
        .await
}

/// A server frame, `{"type": kind, "data": data}`.
pub(crate) fn frame(kind: &str, data: impl Serialize) -> Utf8Bytes {
    match serde_json::to_string(&crate::chat::events::Frame { kind, data }) {
        Ok(text) => Utf8Bytes::from(text),
        Err(e) => {
            tracing::error!(error = %e, kind, "cannot encode a frame");
            Utf8Bytes::from_static(
                r#"{"type":"error","data":{"error":"internal error","type":"internal_error"}}"#,
            )
        }
    }
}
