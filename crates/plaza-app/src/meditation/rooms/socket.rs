//! `WS /meditation/group`: a socket is in at most one room at a time.
//! Client frames: `join {room_id}`, `leave`, `start {duration_sec}` (the
//! host), `end` (the host), `ping`. Server frames: `ready`, `joined`,
//! `left`, `participants`, `session_started`, `session_ended`,
//! `room_closed`, `pong`, `error` (DESIGN §3's fields, with the `id` and
//! type of the frame it answers). See docs/meditation.md.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, MissedTickBehavior, interval_at, timeout};

use super::live::{self, fresh_since};
use super::round::{self, Reason, Round};
use super::store::{self, Member, Participant};
use super::{RoomView, visible};
use crate::http::{ApiError, ErrorBody, ValidQuery};
use crate::http::{AuthUser, MaybeAuthUser};
use crate::realtime::{self, Close, Conn, Out, WsQuery, frame};
use crate::state::AppState;

const TYPES: &str = "join, leave, start, end, ping";

/// `GET /meditation/group` — the group meditation socket.
///
/// Authenticate as on `/ws`: `Authorization: Bearer …`, `?token=…`, or a
/// first frame `{"type": "auth", "data": {"token": "…"}}`. Frames are
/// described in docs/meditation.md.
#[utoipa::path(get, path = "/meditation/group", tag = "meditation", params(WsQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; frames are described in docs/meditation.md"),
        (status = 400, description = "Not a WebSocket upgrade", body = ErrorBody),
        (status = 401, description = "The token is invalid or expired", body = ErrorBody),
        (status = 404, description = "WebSockets are turned off", body = ErrorBody),
    ))]
pub async fn connect(
    State(state): State<AppState>,
    MaybeAuthUser(by_header): MaybeAuthUser,
    ValidQuery(query): ValidQuery<WsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let (upgrade, user) = realtime::accept(&state, by_header, query.token, upgrade).await?;
    Ok(upgrade.on_upgrade(move |socket| run(state, socket, user)))
}

async fn run(state: AppState, socket: WebSocket, user: Option<AuthUser>) {
    let (mut sink, mut stream) = socket.split();
    let me = match user {
        Some(user) => user,
        None => match Box::pin(realtime::authenticate(&state, &mut stream)).await {
            Ok(user) => user,
            Err(reason) => {
                let close = realtime::close_message(reason);
                let _ = timeout(realtime::WRITE_TIMEOUT, sink.send(close)).await;
                return;
            }
        },
    };
    state.rooms.listen(&state).await;
    let ws = &state.config.ws;
    let capacity = usize::try_from(ws.send_queue).unwrap_or(usize::MAX);
    let conn = state.rooms.open(me.user_id, me.session_id, capacity);
    let writer = tokio::spawn(realtime::write(Arc::clone(&conn), sink, ws.ping_interval.0));
    let ready = json!({"user_id": me.user_id, "server_time": state.clock.now()});
    conn.push(Out::Reply(frame("ready", ready)));
    let mut socket = Socket {
        state: &state,
        conn: &conn,
        me,
        id: None,
        kind: None,
    };
    socket.read(&mut stream).await;
    if let Err(e) = socket.leave().await {
        tracing::warn!(error = ?e, "cannot take a closed socket out of its room");
    }
    state.rooms.close(&conn);
    conn.close(Close::NORMAL);
    let _ = timeout(realtime::WRITE_TIMEOUT, writer).await;
    conn.gone.cancel();
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Value,
    id: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Join {
    room_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Start {
    duration_sec: i64,
}

struct Socket<'a> {
    state: &'a AppState,
    conn: &'a Arc<Conn>,
    me: AuthUser,
    /// The `id` and type of the frame being answered.
    id: Option<Value>,
    kind: Option<String>,
}

impl Socket<'_> {
    async fn read(&mut self, stream: &mut futures_util::stream::SplitStream<WebSocket>) {
        let every = self.state.config.ws.ping_interval.0;
        let mut heartbeat = interval_at(Instant::now() + every, every);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                item = stream.next() => {
                    heard = Instant::now();
                    match item {
                        Some(Ok(Message::Text(text))) => Box::pin(self.handle(text)).await,
                        Some(Ok(Message::Binary(_))) => self.refuse(&ApiError::unsupported_media_type(
                            "binary frames are not accepted; send JSON text frames",
                        )),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Err(e)) => {
                            if realtime::too_big(&e) {
                                self.conn.close(Close::TOO_BIG);
                            }
                            break;
                        }
                    }
                }
                _ = heartbeat.tick() => {
                    if heard.elapsed() > every * 2 {
                        self.conn.close(Close::DEAD);
                        break;
                    }
                }
                () = self.conn.gone.cancelled() => break,
            }
        }
    }

    async fn handle(&mut self, text: Utf8Bytes) {
        self.id = None;
        self.kind = None;
        let limit = self.state.config.ws.max_message.0;
        if text.len() as u64 > limit {
            return self.refuse(&ApiError::payload_too_large(limit));
        }
        let envelope: Envelope = match serde_json::from_str(text.as_str()) {
            Ok(e) => e,
            Err(e) => {
                return self.refuse(&ApiError::bad_request(format!("malformed JSON: {e}")));
            }
        };
        self.id = envelope.id;
        self.kind = Some(envelope.kind.clone());
        if let Err(e) = self.dispatch(&envelope.kind, envelope.data).await {
            self.refuse(&e);
        }
    }

    async fn dispatch(&mut self, kind: &str, data: Value) -> Result<(), ApiError> {
        match kind {
            "ping" => {
                let now = self.state.clock.now();
                self.reply("pong", json!({"server_time": now}));
            }
            "auth" => self.reply("ack", json!({})),
            "join" => {
                let join: Join = realtime::parse(data)?;
                self.join(&join.room_id).await?;
            }
            "leave" => match self.leave().await? {
                Some(room) => self.reply("left", json!({"room_id": room})),
                None => return Err(ApiError::conflict("not in a room; join one first")),
            },
            "start" => {
                let start: Start = realtime::parse(data)?;
                let room = self.room().await?;
                round::start(self.state, &room, self.me.user_id, start.duration_sec).await?;
            }
            "end" => {
                let room = self.room().await?;
                if room.host_id != self.me.user_id {
                    return Err(ApiError::forbidden(
                        "only the room's host ends a group session",
                    ));
                }
                let Some(current) = Round::of(&room) else {
                    return Err(ApiError::conflict("no group session is under way"));
                };
                let now = self.state.clock.now().min(current.ends_at);
                round::finish(self.state, &room.id, &current.round_id, now, Reason::Host).await?;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown frame type `{other}`; expected one of {TYPES}"
                )));
            }
        }
        Ok(())
    }

    /// The room this socket is in, as it is now.
    async fn room(&self) -> Result<store::Room, ApiError> {
        let id = self
            .state
            .rooms
            .room_of(self.conn)
            .ok_or_else(|| ApiError::conflict("not in a room; join one first"))?;
        let mut conn = self.state.db.writer().acquire().await?;
        store::find(&mut conn, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("the room was closed"))
    }

    fn member<'a>(&'a self, room: &'a str) -> Member<'a> {
        Member {
            room,
            node: self.state.rooms.node(),
            socket: i64::try_from(self.conn.id).unwrap_or(i64::MAX),
            user: self.me.user_id,
        }
    }

    async fn join(&mut self, room_id: &str) -> Result<(), ApiError> {
        let state = self.state;
        let now = state.clock.now();
        let since = fresh_since();
        let mut db = state.db.writer().acquire().await?;
        let room = visible(&mut db, room_id, &self.me).await?;
        drop(db);
        let here = state.rooms.room_of(self.conn);
        if here.as_deref() != Some(room.id.as_str()) {
            if here.is_some() {
                self.leave().await?;
            }
            let mut tx = state.work().await?;
            // Joins of one room take turns, so the last place goes once.
            store::lock(&mut tx, &room.id).await?;
            store::forget_stale(&mut tx, &room.id, since).await?;
            let present = store::people(&mut tx, &room.id, since).await?;
            if present.len() as i64 >= room.max_participants && !present.contains(&self.me.user_id)
            {
                return Err(ApiError::conflict("the room is full")
                    .with_details(json!({"max_participants": room.max_participants})));
            }
            store::add_member(&mut tx, &self.member(&room.id), now, live::wall()).await?;
            let mine = round::join(&mut tx, &room, self.me.user_id, now).await?;
            tx.commit().await?;
            state.rooms.enter(&room.id, self.conn);
            let participants = self.joined(&room, mine).await?;
            announce(state, &room.id, participants).await;
        } else {
            self.joined(&room, None).await?;
        }
        Ok(())
    }

    /// Answers a join: the room, who is in it, the group session under way
    /// (with the server's time, to count down from) and my part of it.
    /// Who is in the room now, as the answer said.
    async fn joined(
        &self,
        room: &store::Room,
        mine: Option<crate::meditation::Session>,
    ) -> Result<Vec<Participant>, ApiError> {
        let now = self.state.clock.now();
        let participants = participants(self.state, &room.id).await?;
        let data = json!({
            "room": RoomView::new(room, participants.len() as i64),
            "participants": participants,
            "session": Round::of(room),
            "my_session": mine,
            "server_time": now,
        });
        self.reply("joined", data);
        Ok(participants)
    }

    /// Takes this socket out of its room, ending my part of a group session
    /// if no other socket of mine is there; the room it left, if any.
    async fn leave(&mut self) -> Result<Option<String>, ApiError> {
        let state = self.state;
        let Some(room_id) = state.rooms.room_of(self.conn) else {
            return Ok(None);
        };
        state.rooms.leave(&room_id, self.conn);
        let mut db = state.db.writer().acquire().await?;
        store::remove_member(&mut db, &self.member(&room_id)).await?;
        let still_here = store::is_in(&mut db, &room_id, self.me.user_id, fresh_since()).await?;
        let room = store::find(&mut db, &room_id).await?;
        drop(db);
        if !still_here && let Some(current) = room.as_ref().and_then(Round::of) {
            round::leave(state, &current.round_id, self.me.user_id).await?;
        }
        if room.is_some() {
            announce(state, &room_id, participants(state, &room_id).await?).await;
        }
        Ok(Some(room_id))
    }

    fn reply(&self, kind: &str, mut data: Value) {
        if let Some(fields) = data.as_object_mut() {
            fields.insert("id".into(), self.id.clone().unwrap_or(Value::Null));
            fields.insert("for".into(), json!(self.kind));
        }
        self.conn.push(Out::Reply(frame(kind, data)));
    }

    fn refuse(&self, e: &ApiError) {
        if e.status().is_server_error() {
            tracing::error!(error = ?e, user_id = %self.me.user_id, "group socket frame failed");
        }
        self.reply("error", realtime::error_data(e, self.state.clock.now()));
    }
}

/// Who is in `room` now.
async fn participants(state: &AppState, room: &str) -> Result<Vec<Participant>, ApiError> {
    let mut db = state.db.writer().acquire().await?;
    Ok(store::participants(&mut db, room, fresh_since()).await?)
}

/// Tells everyone in `room`, on every node, who is in it.
async fn announce(state: &AppState, room: &str, participants: Vec<Participant>) {
    let data = json!({"room_id": room, "count": participants.len(), "participants": participants});
    live::publish(state, room, "participants", data, false).await;
}
