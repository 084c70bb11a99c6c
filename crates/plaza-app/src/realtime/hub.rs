//! The node's hub: which sockets are open here, and for each chat with a
//! local audience a *room* whose pump task listens to the chat's bus topic
//! and fans each event out to the room's sockets. An event arrives
//! serialised once and is shared, not copied, by every recipient.
//!
//! The pump also orders new messages: it remembers the last seq it passed
//! on and, when the bus brings a later one first (senders commit in seq
//! order but publish in any), reads the ones in between from the database,
//! so every socket sees a chat's messages contiguously.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use plaza_core::{ChatId, SessionId, UserId};
use plaza_platform::bus::RecvError;
use serde::Deserialize;
use tokio::sync::OnceCell;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::conn::{Close, Conn, Out};
use super::frame;
use crate::auth::service::SESSION_ENDED_TOPIC;
use crate::chat::events::{self, MEMBERSHIP_TOPIC, Membership};
use crate::chat::service as chats;
use crate::state::AppState;

/// Bus topic for frames addressed to users wherever they are connected:
/// the recipients' ids, comma-separated, a newline, then the frame.
pub const USERS_TOPIC: &str = "hub.users";

/// How long a socket waits for a chat's subscription before it is
/// reported ready anyway (a message in between is filled in later).
pub const LIVE_WAIT: Duration = Duration::from_secs(5);

/// New messages a pump reads from the database to close one gap.
const MAX_FILL: i64 = 500;

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

    /// Starts delivering every chat `conn`'s user is a member of.
    pub async fn attach(&self, state: &AppState, conn: &Arc<Conn>) -> Result<usize, sqlx::Error> {
        self.listen(state).await;
        let chats = {
            let mut db = state.db.fresh().acquire().await?;
            chats::chat_ids_of(&mut db, conn.user).await?
        };
        let rooms: Vec<Arc<Room>> = chats
            .iter()
            .filter_map(|chat| self.enter(state, *chat, conn))
            .collect();
        for room in rooms {
            room.live(LIVE_WAIT).await;
        }
        Ok(chats.len())
    }

    /// Delivers `chat`'s events to `conn` once the returned room is live
    /// (None if it already received them).
    pub fn enter(&self, state: &AppState, chat: ChatId, conn: &Arc<Conn>) -> Option<Arc<Room>> {
        if !conn.enter(chat) {
            return None;
        }
        // The map stays locked while the room changes, so a room is never
        // joined just as its last socket leaves and its pump stops.
        let mut rooms = lock(&self.rooms);
        let room = rooms.entry(chat).or_insert_with(|| open_room(state, chat));
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

    fn conns_of(&self, user: UserId) -> Vec<Arc<Conn>> {
        lock(&self.users).get(&user).cloned().unwrap_or_default()
    }

    fn all(&self) -> Vec<Arc<Conn>> {
        lock(&self.users).values().flatten().cloned().collect()
    }

    /// Subscribes, once per node, to what concerns sockets rather than
    /// chats: membership changes, frames for users, ended sessions, and
    /// shutdown.
    async fn listen(&self, state: &AppState) {
        self.listening
            .get_or_init(|| async {
                for topic in [MEMBERSHIP_TOPIC, USERS_TOPIC, SESSION_ENDED_TOPIC] {
                    let sub = super::subscribe(state, topic).await;
                    tokio::spawn(listener(state.clone(), topic, sub));
                }
                let state = state.clone();
                tokio::spawn(async move {
                    state.shutdown.stopping().await;
                    for conn in state.hub.all() {
                        conn.close(Close::SHUTDOWN);
                    }
                });
            })
            .await;
    }
}

async fn listener(
    state: AppState,
    topic: &'static str,
    mut sub: plaza_platform::bus::Subscription,
) {
    while let Some(message) = super::receive(&mut sub, topic).await {
        let hub = &state.hub;
        match topic {
            MEMBERSHIP_TOPIC => {
                let Ok(change) = serde_json::from_slice::<Membership>(&message.payload) else {
                    tracing::warn!("unreadable membership change");
                    continue;
                };
                let kind = if change.joined {
                    "chat_joined"
                } else {
                    "chat_left"
                };
                let notice = frame(kind, serde_json::json!({"chat_ids": change.chat_ids}));
                let mut rooms = Vec::new();
                let mut told = Vec::new();
                for user in &change.user_ids {
                    for conn in hub.conns_of(*user) {
                        for chat in &change.chat_ids {
                            if change.joined {
                                rooms.extend(hub.enter(&state, *chat, &conn));
                            } else {
                                hub.leave(*chat, &conn);
                            }
                        }
                        told.push(conn);
                    }
                }
                // Told once the new rooms are live, so nothing sent after
                // the notice can be missed.
                tokio::spawn(async move {
                    for room in rooms {
                        room.live(LIVE_WAIT).await;
                    }
                    for conn in told {
                        conn.push(Out::Reply(notice.clone()));
                    }
                });
            }
            USERS_TOPIC => {
                let Some((to, body)) = split_addressed(&message.payload) else {
                    continue;
                };
                let Ok(body) = Utf8Bytes::try_from(body) else {
                    continue;
                };
                for user in to {
                    for conn in hub.conns_of(user) {
                        conn.push(Out::Reply(body.clone()));
                    }
                }
            }
            _ => {
                let Some(session) = super::ended_session(&message.payload) else {
                    continue;
                };
                for conn in hub.all().into_iter().filter(|c| c.session == session) {
                    conn.close(Close::SESSION_ENDED);
                }
            }
        }
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

fn split_addressed(payload: &Bytes) -> Option<(Vec<UserId>, Bytes)> {
    let newline = payload.iter().position(|b| *b == b'\n')?;
    let ids = std::str::from_utf8(&payload[..newline]).ok()?;
    let to = ids.split(',').filter_map(|id| id.parse().ok()).collect();
    Some((to, payload.slice(newline + 1..)))
}

fn open_room(state: &AppState, chat: ChatId) -> Arc<Room> {
    let room = Arc::new(Room::default());
    let task = tokio::spawn(pump(state.clone(), chat, Arc::clone(&room)));
    let _ = room.pump.set(task.abort_handle());
    room
}

/// What a pump reads of each event: enough to order and route it.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: HeadData,
}

#[derive(Deserialize)]
struct HeadData {
    seq: Option<i64>,
    user_id: Option<UserId>,
}

async fn pump(state: AppState, chat: ChatId, room: Arc<Room>) {
    // Read before subscribing: a message committed in between arrives
    // later than its successor's event, and the gap is filled then.
    let mut last = match state.db.fresh().acquire().await {
        Ok(mut db) => chats::last_seq(&mut db, chat).await.ok().flatten(),
        Err(_) => None,
    };
    let topic = events::topic(chat);
    let mut sub = loop {
        match state.bus.subscribe(&topic).await {
            Ok(sub) => break sub,
            Err(e) => {
                tracing::warn!(chat_id = %chat, error = %e, "cannot subscribe to a chat; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    room.live.cancel();
    loop {
        match sub.recv().await {
            Ok(message) => fan_out(&state, chat, &room, &mut last, message.payload).await,
            Err(RecvError::Lagged(n)) => {
                // The next new message finds the gap and fills it.
                tracing::warn!(chat_id = %chat, missed = n, "chat pump fell behind");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn fan_out(
    state: &AppState,
    chat: ChatId,
    room: &Room,
    last: &mut Option<i64>,
    payload: Bytes,
) {
    let Ok(frame) = Utf8Bytes::try_from(payload) else {
        return;
    };
    let Ok(head) = serde_json::from_str::<Head<'_>>(frame.as_str()) else {
        tracing::warn!(chat_id = %chat, "unreadable chat event");
        return;
    };
    let seq = if head.kind == "new_message" {
        head.data.seq
    } else {
        None
    };
    if let Some(seq) = seq {
        if let Some(prev) = *last {
            if seq <= prev {
                return;
            }
            if seq > prev + 1 {
                fill(state, chat, room, prev, seq).await;
            }
        }
        *last = Some(seq);
    }
    // Typing is for the others.
    let skip = (head.kind == "user_typing")
        .then_some(head.data.user_id)
        .flatten();
    deliver(room, chat, seq, &frame, skip);
}

fn deliver(room: &Room, chat: ChatId, seq: Option<i64>, frame: &Utf8Bytes, skip: Option<UserId>) {
    let conns = room
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

/// Passes on the messages between `after` and `before` from the database.
async fn fill(state: &AppState, chat: ChatId, room: &Room, after: i64, before: i64) {
    let wanted = (before - after - 1).min(MAX_FILL);
    let found = match state.db.fresh().acquire().await {
        Ok(mut db) => chats::messages_after(&mut db, chat, None, Some(after), wanted).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(messages) => {
            for m in messages.into_iter().filter(|m| m.seq < before) {
                let frame = frame("new_message", &m);
                deliver(room, chat, Some(m.seq), &frame, None);
            }
        }
        Err(e) => {
            tracing::warn!(chat_id = %chat, error = %e, "cannot fill a gap in a chat's events")
        }
    }
}
