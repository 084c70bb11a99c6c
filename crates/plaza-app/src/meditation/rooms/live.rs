//! This node's group-meditation sockets and the rooms they are in. A room's
//! frames go out on one bus topic — a line naming the room, then the frame —
//! so every node passes them to its own sockets in that room; a socket's
//! queue and writer are the chat socket's (`realtime::Conn`).
//!
//! Who is in a room is kept in the database, one row per socket, which the
//! socket's node refreshes every [`HEARTBEAT`]; a row older than [`STALE`]
//! (by the wall clock) belongs to a node that died and is not counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use plaza_core::{RoomId, SessionId, Timestamp, UserId};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::auth::service::SESSION_ENDED_TOPIC;
use crate::realtime::{self, Close, Conn, Out, frame};
use crate::state::AppState;

/// The bus topic of every room's frames.
pub const TOPIC: &str = "meditation.rooms";
/// How often a node says its sockets are still in their rooms.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// A socket not refreshed for this long is not counted.
pub const STALE: Duration = Duration::from_secs(90);

/// Now by the wall clock. Liveness is a matter of real time: a test's
/// settable clock may jump hours ahead while its sockets stay open.
pub fn wall() -> Timestamp {
    plaza_core::Clock::now(&plaza_core::SystemClock)
}

/// The oldest `seen_at` still counted.
pub fn fresh_since() -> Timestamp {
    wall().saturating_sub(STALE)
}

/// A socket, and the room it is in.
type Socket = (Arc<Conn>, Option<RoomId>);

#[derive(Debug, Default)]
pub struct Rooms {
    node: OnceLock<String>,
    next_id: AtomicU64,
    /// Every group socket on this node, and the room it is in.
    sockets: Mutex<HashMap<u64, Socket>>,
    /// Each room's sockets on this node.
    rooms: Mutex<HashMap<RoomId, Vec<Arc<Conn>>>>,
    listening: OnceCell<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Rooms {
    pub fn new() -> Self {
        Self::default()
    }

    /// This node's name in `meditation_room_members`.
    pub fn node(&self) -> &str {
        self.node
            .get_or_init(|| uuid::Uuid::now_v7().simple().to_string())
    }

    /// A new socket of `user`, in no room yet.
    pub fn open(&self, user: UserId, session: SessionId, capacity: usize) -> Arc<Conn> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(id, user, session, capacity));
        lock(&self.sockets).insert(id, (Arc::clone(&conn), None));
        metrics::gauge!("plaza_meditation_sockets").increment(1);
        conn
    }

    pub fn close(&self, conn: &Conn) {
        if let Some(room) = self.room_of(conn) {
            self.leave(room, conn);
        }
        if lock(&self.sockets).remove(&conn.id).is_some() {
            metrics::gauge!("plaza_meditation_sockets").decrement(1);
        }
    }

    /// The room `conn` is in.
    pub fn room_of(&self, conn: &Conn) -> Option<RoomId> {
        lock(&self.sockets)
            .get(&conn.id)
            .and_then(|(_, room)| *room)
    }

    pub fn enter(&self, room: RoomId, conn: &Arc<Conn>) {
        if let Some((_, current)) = lock(&self.sockets).get_mut(&conn.id) {
            *current = Some(room);
        }
        let mut rooms = lock(&self.rooms);
        let here = rooms.entry(room).or_default();
        if !here.iter().any(|c| c.id == conn.id) {
            here.push(Arc::clone(conn));
        }
    }

    pub fn leave(&self, room: RoomId, conn: &Conn) {
        if let Some((_, current)) = lock(&self.sockets).get_mut(&conn.id)
            && *current == Some(room)
        {
            *current = None;
        }
        let mut rooms = lock(&self.rooms);
        if let Some(here) = rooms.get_mut(&room) {
            here.retain(|c| c.id != conn.id);
            if here.is_empty() {
                rooms.remove(&room);
            }
        }
    }

    fn in_room(&self, room: RoomId) -> Vec<Arc<Conn>> {
        lock(&self.rooms).get(&room).cloned().unwrap_or_default()
    }

    fn all(&self) -> Vec<Arc<Conn>> {
        lock(&self.sockets)
            .values()
            .map(|(c, _)| Arc::clone(c))
            .collect()
    }

    /// Subscribes, once per node, to the rooms' frames and to ended
    /// sign-in sessions, and starts the heartbeat and the shutdown close.
    pub async fn listen(&self, state: &AppState) {
        self.listening
            .get_or_init(|| async {
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
        if lock(&state.rooms.rooms).is_empty() {
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
