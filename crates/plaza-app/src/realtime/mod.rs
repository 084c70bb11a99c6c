//! Real-time delivery (issue 4): the WebSocket endpoint `/ws` with seed
//! 002's protocol, the per-node hub that fans chat events out to sockets,
//! and presence. See docs/realtime.md for the protocol.

mod commands;
pub mod conn;
mod delivery;
pub mod envelope;
pub mod error;
pub mod feed;
mod handlers;
pub mod hub;
mod order;
pub mod service;
mod socket;
mod ws;

use axum::extract::ws::Utf8Bytes;
use plaza_platform::bus::{Message, Subscription};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use commands::Frame;
pub use hub::Hub;

// For other modules' sockets (group meditation): the same upgrade checks,
// authentication, bounded queue, writer and frame conventions.
pub(crate) use conn::{Close, Conn, Out};
pub(crate) use envelope::{Envelope, error_data, parse};
pub(crate) use socket::{
    Expiry, Frames, Halves, READ_BUFFER, WRITE_BUFFER, WsQuery, finish, read, upgrade, write,
};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::connect))
        .routes(routes!(handlers::online_status))
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

/// Subscribes to `topic` for a node's lifetime, retrying every second
/// until the bus answers.
pub(crate) async fn subscribe(state: &AppState, topic: &'static str) -> Subscription {
    plaza_platform::bus::subscribe_retrying(&state.bus, topic).await
}

/// The next message of a node-wide listener, skipping (and logging) what
/// it fell behind on; None once the bus is gone.
pub(crate) async fn receive(sub: &mut Subscription, topic: &str) -> Option<Message> {
    sub.next_of(topic).await
}

/// The sign-in session a `SESSION_ENDED_TOPIC` message names.
pub(crate) fn ended_session(payload: &[u8]) -> Option<plaza_core::SessionId> {
    std::str::from_utf8(payload).ok()?.parse().ok()
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
