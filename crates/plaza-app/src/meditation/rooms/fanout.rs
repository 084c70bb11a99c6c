//! A room's frames on the bus, and this node's share of the work: every
//! frame goes out on one topic — a line naming the room, then the frame —
//! so every node passes it to its own sockets in that room. The node
//! refreshes its sockets' rows in `meditation_room_members` every
//! [`HEARTBEAT`], so live ones are never taken for a dead node's.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use plaza_core::RoomId;
use serde::Serialize;

use super::live::wall;
use crate::http::auth::revocation::SESSION_ENDED_TOPIC;
use crate::realtime::{self, Close, Out, frame};
use crate::state::AppState;

/// The bus topic of every room's frames.
pub const TOPIC: &str = "meditation.rooms";
/// How often a node says its sockets are still in their rooms.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// Subscribes, once per node, to the rooms' frames and to ended
/// sign-in sessions, and starts the heartbeat and the shutdown close.
pub async fn listen(state: &AppState) {
    state
        .rooms
        .once(async {
            for topic in [TOPIC, SESSION_ENDED_TOPIC] {
                let sub = realtime::subscribe(state, topic).await;
                tokio::spawn(listener(state.clone(), topic, sub));
            }
            tokio::spawn(heartbeat(state.clone()));
            let state = state.clone();
            tokio::spawn(async move {
                state.shutdown.stopping().await;
                for conn in state.rooms.all() {
                    conn.close(Close::SHUTDOWN);
                }
            });
        })
        .await;
}

/// Sends a `kind` frame to everyone in `room`, on every node. A room that
/// `closes` also lets its sockets go.
pub async fn publish(
    state: &AppState,
    room: RoomId,
    kind: &str,
    data: impl Serialize,
    closes: bool,
) {
    let frame = frame(kind, data);
    let room_id = room.to_string();
    let mut payload = BytesMut::with_capacity(room_id.len() + frame.len() + 8);
    payload.put_slice(room_id.as_bytes());
    if closes {
        payload.put_slice(b" close");
    }
    payload.put_u8(b'\n');
    payload.put_slice(frame.as_bytes());
    if let Err(e) = state.bus.publish(TOPIC, payload.freeze()).await {
        tracing::warn!(room_id = %room, kind, error = %e, "cannot publish a room's frame");
    }
}

/// The room, whether it closes, and the frame of a [`TOPIC`] message.
fn split(payload: &Bytes) -> Option<(RoomId, bool, &[u8])> {
    let at = payload.iter().position(|b| *b == b'\n')?;
    let head = std::str::from_utf8(&payload[..at]).ok()?;
    let (room, closes) = match head.strip_suffix(" close") {
        Some(room) => (room, true),
        None => (head, false),
    };
    Some((room.parse().ok()?, closes, &payload[at + 1..]))
}

async fn listener(
    state: AppState,
    topic: &'static str,
    mut sub: plaza_platform::bus::Subscription,
) {
    while let Some(message) = realtime::receive(&mut sub, topic).await {
        if topic == SESSION_ENDED_TOPIC {
            let Some(session) = realtime::ended_session(&message.payload) else {
                continue;
            };
            for conn in state
                .rooms
                .all()
                .into_iter()
                .filter(|c| c.session == session)
            {
                conn.close(Close::SESSION_ENDED);
            }
            continue;
        }
        let Some((room, closes, body)) = split(&message.payload) else {
            continue;
        };
        let Ok(body) = axum::extract::ws::Utf8Bytes::try_from(Bytes::copy_from_slice(body)) else {
            continue;
        };
        for conn in state.rooms.in_room(room) {
            conn.push(Out::Reply(body.clone()));
            if closes {
                state.rooms.leave(room, &conn);
            }
        }
    }
}

/// Refreshes this node's rows in `meditation_room_members` until shutdown.
async fn heartbeat(state: AppState) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(HEARTBEAT) => {}
            () = state.shutdown.stopping() => return,
        }
        if state.rooms.is_idle() {
            continue;
        }
        let touched = match state.db.writer().acquire().await {
            Ok(mut conn) => super::store::touch(&mut conn, state.rooms.node(), wall()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = touched {
            tracing::warn!(error = %e, "cannot refresh this node's meditation rooms");
        }
    }
}
