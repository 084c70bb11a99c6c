//! The client's frames: `{"type": …, "data": {…}, "id"?: …}`. Each is
//! answered by an `ack` or an `error` carrying the frame's `id` (when it
//! had one) and its type in `for`; a bad frame never closes the socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use plaza_core::ChatId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::conn::{Conn, Out};
use super::envelope::{Envelope, error_data, parse};
use super::frame;
use crate::chat::request::send_request;
use crate::chat::{ChatError, service};
use crate::http::{ApiError, AuthUser};
use crate::state::AppState;

/// Messages one `resume` sends at most; `more: true` in its ack says to
/// resume again from the last one.
const RESUME_PAGE: i64 = 500;
/// A socket's `typing` for one chat is passed on at most this often.
const TYPING_EVERY: Duration = Duration::from_secs(2);

const TYPES: &str = "auth, ping, join_room, leave_room, typing, send_message, mark_read, resume";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Room {
    room_id: String,
    /// Seed 002 names a group and its channel; the channel is the chat.
    #[serde(default)]
    channel_id: Option<String>,
}

/// A chat named in a frame; a malformed id is answered as an unknown one.
fn chat_id(raw: &str) -> Result<ChatId, ChatError> {
    raw.parse().map_err(|_| ChatError::NotFound)
}

impl Room {
    fn chat(&self) -> Result<ChatId, ChatError> {
        chat_id(self.channel_id.as_deref().unwrap_or(&self.room_id))
    }
}

send_request! {
    /// `send_message`: seed 002 names a group and its channel; the channel
    /// is the chat.
    struct Send {
        room_id: String,
        #[serde(default)]
        channel_id: Option<String>,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkRead {
    room_id: String,
    #[serde(default)]
    channel_id: Option<String>,
    seq: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeOne {
    room_id: String,
    last_seq: i64,
    /// When the client last heard from the server (the `server_time` of
    /// its last `ready` or `pong`): edits, deletions and reactions since
    /// then, to messages up to `last_seq`, are replayed too.
    #[serde(default)]
    since: Option<plaza_core::Timestamp>,
}

/// One chat, or several at once (`{"rooms": [{room_id, last_seq}, …]}`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Resume {
    One(ResumeOne),
    Many { rooms: Vec<ResumeOne> },
}

impl Resume {
    fn rooms(self) -> Vec<ResumeOne> {
        match self {
            Self::One(one) => vec![one],
            Self::Many { rooms } => rooms,
        }
    }
}

/// The chats a `resume` frame names, if it is one.
pub fn resumed_chats(text: &str) -> Vec<ChatId> {
    let Ok(envelope) = serde_json::from_str::<Envelope>(text) else {
        return Vec::new();
    };
    if envelope.kind != "resume" {
        return Vec::new();
    }
    serde_json::from_value::<Resume>(envelope.data)
        .map(|r| {
            r.rooms()
                .iter()
                .filter_map(|r| chat_id(&r.room_id).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A client's frame, read and checked: what the reader acts on.
pub enum Frame {
    Ping,
    Auth,
    Join(ChatId),
    Leave(ChatId),
    Typing(ChatId),
    Send(ChatId, service::NewMessage),
    MarkRead(ChatId, i64),
    Resume(Vec<ResumeOne>),
}

impl Frame {
    /// The frame of `kind` with `data`: an unknown type is a 400, data that
    /// does not fit it a 422 naming the field, a malformed chat id the
    /// chat's 404 — never a panic (fuzzed: fuzz/fuzz_targets/ws_frame.rs).
    pub fn parse(kind: &str, data: Value) -> Result<Self, ApiError> {
        Ok(match kind {
            "ping" => Self::Ping,
            "auth" => Self::Auth,
            "join_room" => Self::Join(parse::<Room>(data)?.chat()?),
            "leave_room" => Self::Leave(parse::<Room>(data)?.chat()?),
            "typing" => Self::Typing(parse::<Room>(data)?.chat()?),
            "send_message" => {
                let send: Send = parse(data)?;
                let chat = chat_id(send.channel_id.as_deref().unwrap_or(&send.room_id))?;
                Self::Send(chat, send.message())
            }
            "mark_read" => {
                let read: MarkRead = parse(data)?;
                let chat = chat_id(read.channel_id.as_deref().unwrap_or(&read.room_id))?;
                Self::MarkRead(chat, read.seq)
            }
            "resume" => Self::Resume(parse::<Resume>(data)?.rooms()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown frame type `{other}`; expected one of {TYPES}"
                )));
            }
        })
    }

    /// A socket's text frame as the reader takes it (the fuzzers' entry).
    pub fn read(text: &str, limit: u64) -> Result<Self, ApiError> {
        let envelope = Envelope::read(text, limit)?;
        Self::parse(&envelope.kind, envelope.data)
    }
}

/// What the reader keeps between frames.
pub struct Reader<'a> {
    state: &'a AppState,
    conn: &'a Arc<Conn>,
    me: AuthUser,
    typed: Option<(ChatId, Instant)>,
    /// The frame being handled, for its answer.
    id: Option<Value>,
    kind: Option<String>,
}

impl<'a> Reader<'a> {
    pub fn new(state: &'a AppState, conn: &'a Arc<Conn>, me: AuthUser) -> Self {
        Self {
            state,
            conn,
            me,
            typed: None,
            id: None,
            kind: None,
        }
    }

    pub async fn handle(&mut self, text: Utf8Bytes) {
        self.id = None;
        self.kind = None;
        let limit = self.state.config.ws.max_message.0;
        let envelope = match Envelope::read(text.as_str(), limit) {
            Ok(e) => e,
            Err(e) => return self.refuse(e),
        };
        self.id = envelope.id;
        self.kind = Some(envelope.kind.clone());
        let done = match Frame::parse(&envelope.kind, envelope.data) {
            Ok(frame) => self.dispatch(frame).await,
            Err(e) => Err(e),
        };
        if let Err(e) = done {
            self.refuse(e);
        }
    }

    async fn dispatch(&mut self, frame: Frame) -> Result<(), ApiError> {
        match frame {
            Frame::Ping => {
                let now = self.state.clock.now();
                self.reply("pong", json!({"id": self.id, "server_time": now}));
            }
            Frame::Auth => self.ack(json!({})),
            Frame::Join(chat) => self.join(chat).await?,
            Frame::Leave(chat) => {
                self.state.hub.leave(chat, self.conn);
                self.ack(json!({"room_id": chat}));
            }
            Frame::Typing(chat) => self.typing(chat).await?,
            Frame::Send(chat, message) => {
                let me = self.me.user_id;
                let (message, created) =
                    service::send_message(self.state, me, chat, message).await?;
                self.ack(json!({"message": message, "created": created}));
            }
            Frame::MarkRead(chat, seq) => {
                let seq = service::mark_read(self.state, self.me.user_id, chat, seq).await?;
                self.ack(json!({"room_id": chat, "last_read_seq": seq}));
            }
            Frame::Resume(rooms) => {
                for room in rooms {
                    self.resume(room).await;
                }
            }
        }
        Ok(())
    }

    /// Receives `chat`'s events from now on (a chat the caller may watch).
    async fn join(&mut self, chat: ChatId) -> Result<(), ApiError> {
        service::may_watch(self.state, chat, self.me.user_id).await?;
        if let Some(room) = super::delivery::enter(self.state, chat, self.conn) {
            room.live(super::delivery::LIVE_WAIT).await;
        }
        self.ack(json!({"room_id": chat}));
        Ok(())
    }

    /// Passes typing on, at most every [`TYPING_EVERY`] per chat.
    async fn typing(&mut self, chat: ChatId) -> Result<(), ApiError> {
        let now = Instant::now();
        let recent = self
            .typed
            .is_some_and(|(c, at)| c == chat && now.duration_since(at) < TYPING_EVERY);
        if !recent {
            service::typing(self.state, chat, self.me.user_id).await?;
            self.typed = Some((chat, now));
        }
        Ok(())
    }

    /// Sends what `room` holds after the client's `last_seq`, then its ack.
    async fn resume(&mut self, room: ResumeOne) {
        let chat = match chat_id(&room.room_id) {
            Ok(chat) => chat,
            Err(e) => return self.refuse(e.into()),
        };
        self.conn.push(Out::Hold(chat));
        let found = match self.backlog(chat, room.last_seq).await {
            Ok(backlog) => match room.since {
                Some(since) => self
                    .changes(chat, room.last_seq, since)
                    .await
                    .map(|changes| (backlog, changes)),
                None => Ok((backlog, (Vec::new(), false))),
            },
            Err(e) => Err(e),
        };
        match found {
            Ok(((messages, more), (changes, stale))) => {
                let top = messages.last().map_or(room.last_seq, |(seq, _)| *seq);
                let reply = self.answer(
                    "ack",
                    json!({"room_id": chat, "last_seq": top, "more": more, "changes_truncated": stale}),
                );
                self.conn.push(Out::Backlog {
                    chat,
                    after: room.last_seq,
                    messages,
                    changes,
                    reply,
                });
            }
            Err(e) => {
                let reply = self.error_frame(&e);
                self.conn.push(Out::Release { chat, reply });
            }
        }
    }

    async fn backlog(
        &self,
        chat: ChatId,
        after: i64,
    ) -> Result<(Vec<(i64, Utf8Bytes)>, bool), ApiError> {
        let me = self.me.user_id;
        let (found, more) = service::backlog(self.state, me, chat, after, RESUME_PAGE).await?;
        let frames = found
            .iter()
            .map(|m| (m.seq, frame("new_message", m)))
            .collect();
        Ok((frames, more))
    }

    /// Messages up to `up_to` changed since `since`, as frames: each
    /// `edit_message` with the message as it is now, or `delete_message`.
    async fn changes(
        &self,
        chat: ChatId,
        up_to: i64,
        since: plaza_core::Timestamp,
    ) -> Result<(Vec<Utf8Bytes>, bool), ApiError> {
        let me = self.me.user_id;
        let (found, more) =
            service::changed_since(self.state, me, chat, up_to, since, RESUME_PAGE).await?;
        let frames = found
            .iter()
            .map(|m| match m.deleted {
                true => frame(
                    "delete_message",
                    json!({"id": m.id, "chat_id": m.chat_id, "seq": m.seq}),
                ),
                false => frame("edit_message", m),
            })
            .collect();
        Ok((frames, more))
    }

    fn reply(&self, kind: &str, data: Value) {
        self.conn.push(Out::Reply(frame(kind, data)));
    }

    fn answer(&self, kind: &str, mut data: Value) -> Utf8Bytes {
        if let Some(fields) = data.as_object_mut() {
            fields.insert("id".into(), self.id.clone().unwrap_or(Value::Null));
            fields.insert("for".into(), json!(self.kind));
        }
        frame(kind, data)
    }

    fn ack(&self, data: Value) {
        self.conn.push(Out::Reply(self.answer("ack", data)));
    }

    /// Answers the current frame with an `error` in DESIGN §3's terms.
    pub fn refuse(&self, e: ApiError) {
        self.conn.push(Out::Reply(self.error_frame(&e)));
    }

    fn error_frame(&self, e: &ApiError) -> Utf8Bytes {
        if e.status().is_server_error() {
            tracing::error!(error = ?e, user_id = %self.me.user_id, "socket frame failed");
        }
        self.answer("error", error_data(e, self.state.clock.now()))
    }
}

impl super::socket::Frames for Reader<'_> {
    async fn text(&mut self, text: Utf8Bytes) {
        self.handle(text).await;
    }

    fn refuse(&self, e: ApiError) {
        Reader::refuse(self, e);
    }

    async fn beat(&mut self) {
        super::service::heartbeat(self.state, self.conn).await;
    }
}
