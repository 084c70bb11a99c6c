//! This node's group-meditation sockets and the rooms they are in: plain
//! data, which `fanout.rs` feeds. A socket's queue and writer are the chat
//! socket's (`realtime::conn::Conn`).
//!
//! Who is in a room is kept in the database, one row per socket; a row
//! older than [`STALE`] (by the wall clock) belongs to a node that died
//! and is not counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use plaza_core::{RoomId, SessionId, Timestamp, UserId};
use tokio::sync::OnceCell;

use crate::realtime::conn::Conn;

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

    pub(super) fn in_room(&self, room: RoomId) -> Vec<Arc<Conn>> {
        lock(&self.rooms).get(&room).cloned().unwrap_or_default()
    }

    pub(super) fn all(&self) -> Vec<Arc<Conn>> {
        lock(&self.sockets)
            .values()
            .map(|(c, _)| Arc::clone(c))
            .collect()
    }

    /// Whether no socket here is in a room.
    pub(super) fn is_idle(&self) -> bool {
        lock(&self.rooms).is_empty()
    }

    /// Runs `start` once per node (the node-wide listeners).
    pub(super) async fn once(&self, start: impl Future<Output = ()>) {
        self.listening.get_or_init(|| start).await;
    }
}
