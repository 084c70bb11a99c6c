//! The node's hub: which sockets are open here, and for each chat with a
//! local audience a *room* of sockets that its pump task (`delivery.rs`)
//! feeds. Plain data: nothing here reads the database or the bus, so the
//! node's state can hold the hub without depending on any slice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use plaza_core::{ChatId, SessionId, UserId};
use tokio::sync::OnceCell;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::conn::{Conn, Out};

/// Bus topic for frames addressed to users wherever they are connected:
/// the recipients' ids, comma-separated, a newline, then the frame.
pub const USERS_TOPIC: &str = "hub.users";

#[derive(Debug, Default)]
pub struct Hub {
    /// Names this node's sockets in the presence port.
    node: OnceLock<String>,
    next_id: AtomicU64,
    users: Mutex<HashMap<UserId, Vec<Arc<Conn>>>>,
    rooms: Mutex<HashMap<ChatId, Arc<Room>>>,
    listening: OnceCell<()>,
}

#[derive(Debug, Default)]
pub struct Room {
    conns: RwLock<Vec<Arc<Conn>>>,
    pump: OnceLock<AbortHandle>,
    /// Cancelled once the pump listens to the chat's topic.
    live: CancellationToken,
}

impl Room {
    /// Until the room receives its chat's events (or `limit` passes).
    pub async fn live(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.live.cancelled()).await;
    }

    /// Marks the room as receiving its chat's events.
    pub fn set_live(&self) {
        self.live.cancel();
    }

    /// Passes `frame` to every socket in the room but `skip`'s.
    pub fn deliver(&self, chat: ChatId, seq: Option<i64>, frame: &Utf8Bytes, skip: Option<UserId>) {
        let conns = self
            .conns
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut delivered = 0;
        for conn in conns.iter().filter(|c| Some(c.user) != skip) {
            let out = Out::Event {
                chat,
                seq,
                frame: frame.clone(),
            };
            if conn.push(out) {
                delivered += 1;
            }
        }
        metrics::counter!("plaza_ws_deliveries_total").increment(delivered);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new socket of `user`, not yet receiving any chat.
    pub fn open(&self, user: UserId, session: SessionId, capacity: usize) -> Arc<Conn> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(id, user, session, capacity));
        lock(&self.users)
            .entry(user)
            .or_default()
            .push(Arc::clone(&conn));
        metrics::gauge!("plaza_ws_connections").increment(1);
        conn
    }

    /// This socket's key in the presence port, unique across nodes.
    pub fn presence_key(&self, conn: &Conn) -> String {
        let node = self
            .node
            .get_or_init(|| uuid::Uuid::now_v7().simple().to_string());
        format!("{node}:{}", conn.id)
    }

    /// Adds `conn` to `chat`'s room, opening the room — and starting its
    /// pump with `start` — if it is the first; None if `conn` is in already.
    pub fn enter(
        &self,
        chat: ChatId,
        conn: &Arc<Conn>,
        start: impl FnOnce(Arc<Room>) -> AbortHandle,
    ) -> Option<Arc<Room>> {
        if !conn.enter(chat) {
            return None;
        }
        // The map stays locked while the room changes, so a room is never
        // joined just as its last socket leaves and its pump stops.
        let mut rooms = lock(&self.rooms);
        let room = rooms.entry(chat).or_insert_with(|| {
            let room = Arc::new(Room::default());
            let _ = room.pump.set(start(Arc::clone(&room)));
            room
        });
        room.conns
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::clone(conn));
        Some(Arc::clone(room))
    }

    /// Stops delivering `chat` to `conn`.
    pub fn leave(&self, chat: ChatId, conn: &Conn) {
        conn.leave(chat);
        let mut rooms = lock(&self.rooms);
        let Some(room) = rooms.get(&chat) else {
            return;
        };
        let empty = {
            let mut conns = room
                .conns
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            conns.retain(|c| c.id != conn.id);
            conns.is_empty()
        };
        if empty
            && let Some(room) = rooms.remove(&chat)
            && let Some(pump) = room.pump.get()
        {
            pump.abort();
        }
    }

    /// Forgets a closed socket.
    pub fn close(&self, conn: &Conn) {
        for chat in conn.rooms() {
            self.leave(chat, conn);
        }
        let mut users = lock(&self.users);
        if let Some(list) = users.get_mut(&conn.user) {
            list.retain(|c| c.id != conn.id);
            if list.is_empty() {
                users.remove(&conn.user);
            }
        }
        metrics::gauge!("plaza_ws_connections").decrement(1);
    }

    /// Sockets open on this node.
    pub fn connections(&self) -> usize {
        lock(&self.users).values().map(Vec::len).sum()
    }

    /// Until every socket here has closed, or `limit` passes.
    pub async fn drained(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(super) fn conns_of(&self, user: UserId) -> Vec<Arc<Conn>> {
        lock(&self.users).get(&user).cloned().unwrap_or_default()
    }

    pub(super) fn all(&self) -> Vec<Arc<Conn>> {
        lock(&self.users).values().flatten().cloned().collect()
    }

    /// Runs `start` once per node (the node-wide listeners).
    pub(super) async fn once(&self, start: impl Future<Output = ()>) {
        self.listening.get_or_init(|| start).await;
    }
}

/// Encodes a frame for [`USERS_TOPIC`].
pub fn addressed(to: &[UserId], frame: &Utf8Bytes) -> Bytes {
    let ids: Vec<String> = to.iter().map(ToString::to_string).collect();
    let mut payload = ids.join(",").into_bytes();
    payload.push(b'\n');
    payload.extend_from_slice(frame.as_str().as_bytes());
    Bytes::from(payload)
}

pub(super) fn split_addressed(payload: &Bytes) -> Option<(Vec<UserId>, Bytes)> {
    let newline = payload.iter().position(|b| *b == b'\n')?;
    let ids = std::str::from_utf8(&payload[..newline]).ok()?;
    let to = ids.split(',').filter_map(|id| id.parse().ok()).collect();
    Some((to, payload.slice(newline + 1..)))
}
