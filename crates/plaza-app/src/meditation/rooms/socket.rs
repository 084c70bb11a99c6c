//! `WS /meditation/group`: a socket is in at most one room at a time.
//! Client frames: `join {room_id}`, `leave`, `start {duration_sec}` (the
//! host), `end` (the host), `ping`. Server frames: `ready`, `joined`,
//! `left`, `participants`, `session_started`, `session_ended`,
//! `room_closed`, `pong`, `error` (DESIGN §3's fields, with the `id` and
//! type of the frame it answers). See docs/meditation.md. The upgrade,
//! authentication, reader loop and writer are the chat socket's.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Utf8Bytes, WebSocketUpgrade};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{RoomView, Round};
use super::service::{self, Joined, Seat};
use crate::http::{ApiError, AuthUser, ErrorBody, MaybeAuthUser, ValidQuery};
use crate::realtime::{self, Conn, Halves, Out, WsQuery, frame};
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
    realtime::upgrade(state, by_header, query.token, upgrade, run).await
}

async fn run(state: AppState, (sink, mut stream): Halves, me: AuthUser) {
    super::fanout::listen(&state).await;
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
    let expiry = realtime::Expiry::of(&state, &me);
    realtime::read(&conn, &mut stream, ws.ping_interval.0, &expiry, &mut socket).await;
    if let Err(e) = service::leave(&state, socket.seat()).await {
        tracing::warn!(error = ?e, "cannot take a closed socket out of its room");
    }
    state.rooms.close(&conn);
    realtime::finish(&conn, writer).await;
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

impl realtime::Frames for Socket<'_> {
    async fn text(&mut self, text: Utf8Bytes) {
        self.handle(text).await;
    }

    fn refuse(&self, e: ApiError) {
        Socket::refuse(self, &e);
    }
}

impl Socket<'_> {
    fn seat(&self) -> Seat<'_> {
        Seat {
            me: &self.me,
            conn: self.conn,
        }
    }

    async fn handle(&mut self, text: Utf8Bytes) {
        self.id = None;
        self.kind = None;
        let limit = self.state.config.ws.max_message.0;
        let envelope = match realtime::Envelope::read(text.as_str(), limit) {
            Ok(e) => e,
            Err(e) => return self.refuse(&e),
        };
        self.id = envelope.id;
        self.kind = Some(envelope.kind.clone());
        if let Err(e) = self.dispatch(&envelope.kind, envelope.data).await {
            self.refuse(&e);
        }
    }

    async fn dispatch(&mut self, kind: &str, data: Value) -> Result<(), ApiError> {
        let state = self.state;
        match kind {
            "ping" => {
                let now = state.clock.now();
                self.reply("pong", json!({"server_time": now}));
            }
            "auth" => self.reply("ack", json!({})),
            "join" => {
                let join: Join = realtime::parse(data)?;
                service::join(state, self.seat(), &join.room_id, |j| self.joined(j)).await?;
            }
            "leave" => match service::leave(state, self.seat()).await? {
                Some(room) => self.reply("left", json!({"room_id": room})),
                None => return Err(crate::meditation::MeditationError::NotInRoom.into()),
            },
            "start" => {
                let start: Start = realtime::parse(data)?;
                service::start_round(state, self.seat(), start.duration_sec).await?;
            }
            "end" => service::end_round(state, self.seat()).await?,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown frame type `{other}`; expected one of {TYPES}"
                )));
            }
        }
        Ok(())
    }

    /// Answers a join: the room, who is in it, the group session under way
    /// (with the server's time, to count down from) and my part of it.
    fn joined(&self, joined: &Joined) {
        let data = json!({
            "room": RoomView::new(&joined.room, joined.participants.len() as i64),
            "participants": joined.participants,
            "session": Round::of(&joined.room),
            "my_session": joined.mine,
            "server_time": self.state.clock.now(),
        });
        self.reply("joined", data);
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
