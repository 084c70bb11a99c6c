//! One socket's life: authentication, the reader (this task) that handles
//! the client's frames, and the writer task that drains the connection's
//! queue to the client, batching what is waiting into one flush.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::time::{Instant, MissedTickBehavior, interval_at, timeout};
use utoipa::IntoParams;

use super::commands::{self, Reader};
use super::conn::{Close, Conn, Out};
use super::order::Order;
use super::{frame, presence};
use crate::http::auth::check;
use crate::http::{ApiError, ErrorBody, ValidQuery};
use crate::http::{AuthUser, MaybeAuthUser};
use crate::state::AppState;

/// Bytes read from the socket at a time. tungstenite's default (128 KiB,
/// allocated up front) would dwarf everything else an idle socket holds;
/// a larger frame grows the buffer while it is read.
const READ_BUFFER: usize = 1024;
/// Frames are gathered up to this size before a write; each batch is
/// flushed anyway, so this bounds a syscall's size, not latency.
const WRITE_BUFFER: usize = 16 * 1024;
/// A write that takes longer means the client stopped reading.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The least time between two writes to one socket: frames that arrive
/// sooner are gathered into the next write. Each write costs a system call
/// and the peer a wake-up, which at thousands of frames per second weighs
/// more than the frames themselves; a socket quieter than this never waits.
const COALESCE: Duration = Duration::from_millis(20);
/// How long an unauthenticated socket may take to send its `auth` frame.
const AUTH_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize, IntoParams)]
pub struct WsQuery {
    /// An access token, for clients that cannot set headers (browsers).
    pub token: Option<String>,
}

/// `GET /ws` — the real-time socket (seed 002's protocol; docs/realtime.md).
///
/// Authenticate with `Authorization: Bearer …`, `?token=…`, or a first
/// frame `{"type": "auth", "data": {"token": "…"}}`.
#[utoipa::path(get, path = "/ws", tag = "realtime", params(WsQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; frames are described in docs/realtime.md"),
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
    let (upgrade, user) = accept(&state, by_header, query.token, upgrade).await?;
    Ok(upgrade.on_upgrade(move |socket| run(state, socket, user)))
}

/// What every socket endpoint checks before upgrading: the feature flag,
/// the upgrade itself, and a token given in the header or the query (a
/// first `auth` frame is the caller's to read when both are absent). The
/// upgrade comes back with plaza's buffer and frame-size settings.
pub(crate) async fn accept(
    state: &AppState,
    by_header: Option<AuthUser>,
    token: Option<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<(WebSocketUpgrade, Option<AuthUser>), ApiError> {
    if !state.config.features.websocket {
        return Err(ApiError::not_found(
            "WebSockets are turned off (PLAZA_FEATURES_WEBSOCKET)",
        ));
    }
    let upgrade = upgrade.map_err(|r| ApiError::not_an_upgrade(r.status(), r.body_text()))?;
    let user = match (by_header, token) {
        (Some(user), _) => Some(user),
        (None, Some(token)) => Some(check(state, &token).await?),
        (None, None) => None,
    };
    let limit = usize::try_from(state.config.ws.max_message.0).unwrap_or(usize::MAX);
    let upgrade = upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(limit.saturating_mul(16))
        .max_frame_size(limit.saturating_mul(16));
    Ok((upgrade, user))
}

async fn run(state: AppState, socket: WebSocket, user: Option<AuthUser>) {
    let (mut sink, mut stream) = socket.split();
    let user = match user {
        Some(user) => user,
        None => match Box::pin(authenticate(&state, &mut stream)).await {
            Ok(user) => user,
            Err(reason) => {
                let _ = timeout(WRITE_TIMEOUT, sink.send(close_message(reason))).await;
                return;
            }
        },
    };
    let ws = &state.config.ws;
    let capacity = usize::try_from(ws.send_queue).unwrap_or(usize::MAX);
    let conn = state.hub.open(user.user_id, user.session_id, capacity);
    let writer = tokio::spawn(write(Arc::clone(&conn), sink, ws.ping_interval.0));
    read(&state, &conn, user, &mut stream).await;
    state.hub.close(&conn);
    // Let the writer say why (a no-op reason if one was given already).
    conn.close(Close::NORMAL);
    let _ = timeout(WRITE_TIMEOUT, writer).await;
    conn.gone.cancel();
    Box::pin(presence::offline(&state, &conn)).await;
}

/// Waits for `{"type": "auth", "data": {"token": …}}`.
pub(crate) async fn authenticate(
    state: &AppState,
    stream: &mut SplitStream<WebSocket>,
) -> Result<AuthUser, Close> {
    const REFUSED: Close = Close {
        code: 1008,
        reason: r#"authenticate first: {"type":"auth","data":{"token":"<access token>"}}"#,
    };
    let first = timeout(AUTH_WAIT, stream.next()).await.map_err(|_| Close {
        code: 1008,
        reason: "no auth frame in time",
    })?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(REFUSED);
    };
    let token = commands::auth_token(&text).ok_or(REFUSED)?;
    check(state, &token).await.map_err(|_| Close {
        code: 1008,
        reason: "invalid or expired access token",
    })
}

pub(crate) fn close_message(close: Close) -> Message {
    Message::Close(Some(CloseFrame {
        code: close.code,
        reason: Utf8Bytes::from_static(close.reason),
    }))
}

/// Handles the client's frames until the socket ends.
async fn read(
    state: &AppState,
    conn: &Arc<Conn>,
    me: AuthUser,
    stream: &mut SplitStream<WebSocket>,
) {
    let ws = &state.config.ws;
    // A client that resumes says so first; its chats are held before live
    // events start, so what it missed comes first and in order.
    let first = timeout(ws.settle.0, stream.next()).await.ok().flatten();
    if let Some(Ok(Message::Text(text))) = &first {
        for chat in commands::resumed_chats(text) {
            conn.push(Out::Hold(chat));
        }
    }
    match Box::pin(state.hub.attach(state, conn)).await {
        Ok(chats) => {
            let ready = json!({"user_id": me.user_id, "chats": chats});
            conn.push(Out::Reply(frame("ready", ready)));
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot load a socket's chats");
            conn.close(Close {
                code: 1011,
                reason: "internal error",
            });
            return;
        }
    }
    Box::pin(presence::online(state, conn)).await;
    let mut reader = Reader::new(state, conn, me);
    if let Some(item) = first
        && !handle(&mut reader, item).await
    {
        return;
    }
    let every = ws.ping_interval.0;
    let mut heartbeat = interval_at(Instant::now() + every, every);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(item) = item else { break };
                heard = Instant::now();
                if !handle(&mut reader, item).await {
                    break;
                }
            }
            _ = heartbeat.tick() => {
                if heard.elapsed() > every * 2 {
                    conn.close(Close::DEAD);
                    break;
                }
                Box::pin(presence::heartbeat(state, conn)).await;
            }
            () = conn.gone.cancelled() => break,
        }
    }
}

/// Handles one frame; false when the socket is done.
async fn handle(reader: &mut Reader<'_>, item: Result<Message, axum::Error>) -> bool {
    match item {
        Ok(Message::Text(text)) => {
            Box::pin(reader.handle(text)).await;
            true
        }
        Ok(Message::Binary(_)) => {
            reader.refuse(ApiError::unsupported_media_type(
                "binary frames are not accepted; send JSON text frames",
            ));
            true
        }
        Ok(Message::Ping(_) | Message::Pong(_)) => true,
        Ok(Message::Close(_)) => {
            reader.conn().close(Close::NORMAL);
            true
        }
        Err(e) => {
            if too_big(&e) {
                reader.conn().close(Close::TOO_BIG);
            } else {
                tracing::debug!(error = %e, "socket read failed");
            }
            false
        }
    }
}

pub(crate) fn too_big(e: &axum::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|inner| inner.downcast_ref::<tungstenite::Error>())
        .is_some_and(|inner| matches!(inner, tungstenite::Error::Capacity(_)))
}

/// Drains `conn`'s queue to the client, and pings it.
pub(crate) async fn write(
    conn: Arc<Conn>,
    mut sink: SplitSink<WebSocket, Message>,
    ping_every: Duration,
) {
    let mut order = Order::default();
    let (mut taken, mut ready) = (Vec::new(), Vec::new());
    let mut written: Option<Instant> = None;
    let mut ping = interval_at(Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = conn.woken() => {}
            _ = ping.tick() => {
                if !send(&conn, &mut sink, Message::Ping(Bytes::new())).await {
                    break;
                }
                continue;
            }
            () = conn.gone.cancelled() => break,
        }
        // A socket written to moments ago waits out the rest of COALESCE,
        // so a busy one sends a few frames per write instead of one; a
        // quiet one is written at once, and answers (acks, errors, pongs)
        // never wait.
        if let Some(at) = written {
            let until = at + COALESCE;
            while Instant::now() < until && conn.linger() {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => {}
                    () = conn.woken() => {}
                    () = conn.gone.cancelled() => break,
                }
            }
            if conn.gone.is_cancelled() {
                break;
            }
        }
        let close = conn.take(&mut taken);
        for out in taken.drain(..) {
            order.apply(out, &mut ready);
        }
        if !ready.is_empty() {
            if !flush(&conn, &mut sink, &mut ready).await {
                break;
            }
            written = Some(Instant::now());
        }
        if let Some(close) = close {
            send(&conn, &mut sink, close_message(close)).await;
            break;
        }
    }
    conn.gone.cancel();
}

async fn send(conn: &Conn, sink: &mut SplitSink<WebSocket, Message>, message: Message) -> bool {
    written(conn, sink.send(message)).await
}

/// Writes `ready` in one batch; false if the client is gone or stuck.
async fn flush(
    conn: &Conn,
    sink: &mut SplitSink<WebSocket, Message>,
    ready: &mut Vec<Utf8Bytes>,
) -> bool {
    let frames = ready.drain(..);
    let batch = async {
        for frame in frames {
            sink.feed(Message::Text(frame)).await?;
        }
        sink.flush().await
    };
    written(conn, batch).await
}

/// Whether `write` finished within [`WRITE_TIMEOUT`] and before the socket
/// was given up.
async fn written(
    conn: &Conn,
    write: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> bool {
    tokio::select! {
        sent = timeout(WRITE_TIMEOUT, write) => matches!(sent, Ok(Ok(()))),
        () = conn.gone.cancelled() => false,
    }
}
