//! What every socket endpoint (`/ws`, `/meditation/group`) shares: the
//! upgrade with its checks and buffer sizes, authentication by header,
//! query or first frame, the reader loop with its heartbeat, and the writer
//! task that drains a connection's queue, batching what is waiting into one
//! flush. An endpoint says only what it does with its client's frames
//! ([`Frames`]) and what a socket's life holds ([`upgrade`]'s `run`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::time::{Instant, MissedTickBehavior, interval_at, timeout};
use utoipa::IntoParams;

use super::conn::{Close, Conn};
use super::envelope;
use super::order::Order;
use crate::http::auth::check;
use crate::http::error::codes;
use crate::http::{ApiError, AuthUser};
use crate::state::AppState;
use plaza_core::{SharedClock, Timestamp};

/// Bytes read from the socket at a time. tungstenite's default (128 KiB,
/// allocated up front) would dwarf everything else an idle socket holds;
/// a larger frame grows the buffer while it is read.
pub(crate) const READ_BUFFER: usize = 1024;
/// Frames are gathered up to this size before a write; each batch is
/// flushed anyway, so this bounds a syscall's size, not latency.
pub(crate) const WRITE_BUFFER: usize = 16 * 1024;
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
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// An access token, for clients that cannot set headers (browsers).
    pub token: Option<String>,
}

/// The halves of an authenticated socket.
pub(crate) type Halves = (SplitSink<WebSocket, Message>, SplitStream<WebSocket>);

/// The one connect handler: checks the feature flag, the upgrade and a
/// token given in the header or the query, upgrades with plaza's buffer
/// and frame-size settings, waits for a first `auth` frame when neither
/// gave a token, and hands the socket's halves and its user to `run`.
pub(crate) async fn upgrade<F, Fut>(
    state: AppState,
    by_header: Option<AuthUser>,
    token: Option<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    run: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(AppState, Halves, AuthUser) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !state.config.features.websocket {
        return Err(ApiError::new(
            codes::REALTIME_OFF,
            "WebSockets are turned off (PLAZA_FEATURES_WEBSOCKET)",
        ));
    }
    let upgrade = upgrade.map_err(|r| ApiError::not_an_upgrade(r.status(), r.body_text()))?;
    let user = match (by_header, token) {
        (Some(user), _) => Some(user),
        (None, Some(token)) => Some(check(&state, &token).await?),
        (None, None) => None,
    };
    let limit = usize::try_from(state.config.ws.max_message.0).unwrap_or(usize::MAX);
    let upgrade = upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(limit.saturating_mul(16))
        .max_frame_size(limit.saturating_mul(16));
    Ok(upgrade.on_upgrade(move |socket| async move {
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
        run(state, (sink, stream), user).await;
    }))
}

/// Waits for `{"type": "auth", "data": {"token": …}}`.
async fn authenticate(
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
    let token = envelope::auth_token(&text).ok_or(REFUSED)?;
    check(state, &token).await.map_err(|_| Close {
        code: 1008,
        reason: "invalid or expired access token",
    })
}

fn close_message(close: Close) -> Message {
    Message::Close(Some(CloseFrame {
        code: close.code,
        reason: Utf8Bytes::from_static(close.reason),
    }))
}

/// What an endpoint does with its client's frames.
pub(crate) trait Frames: Send {
    /// A text frame: a command to answer.
    fn text(&mut self, text: Utf8Bytes) -> impl Future<Output = ()> + Send;
    /// Answers a frame refused unread.
    fn refuse(&self, e: ApiError);
    /// Another heartbeat passed and the client is alive.
    fn beat(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Handles one item of the stream; false when the socket is done.
pub(crate) async fn one<F: Frames>(
    conn: &Conn,
    frames: &mut F,
    item: Option<Result<Message, axum::Error>>,
) -> bool {
    match item {
        Some(Ok(Message::Text(text))) => {
            Box::pin(frames.text(text)).await;
            true
        }
        Some(Ok(Message::Binary(_))) => {
            frames.refuse(ApiError::unsupported_media_type(
                "binary frames are not accepted; send JSON text frames",
            ));
            true
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => true,
        Some(Ok(Message::Close(_))) => {
            conn.close(Close::NORMAL);
            false
        }
        None => false,
        Some(Err(e)) => {
            if too_big(&e) {
                conn.close(Close::TOO_BIG);
            } else {
                tracing::debug!(error = %e, "socket read failed");
            }
            false
        }
    }
}

/// When a socket's access token runs out, on the application's clock.
pub(crate) struct Expiry {
    pub at: Timestamp,
    pub clock: SharedClock,
}

impl Expiry {
    pub fn of(state: &AppState, me: &AuthUser) -> Self {
        Self {
            at: me.expires_at,
            clock: state.clock.clone(),
        }
    }

    pub fn passed(&self) -> bool {
        self.clock.now() >= self.at
    }

    /// Real time until then (the clock may be a test's; heartbeats check too).
    pub fn left(&self) -> Duration {
        let now = self.clock.now();
        if now >= self.at {
            Duration::ZERO
        } else {
            self.at.duration_since(now)
        }
    }
}

/// Reads the client's frames until it goes, stops answering pings (nothing
/// heard for two intervals), its access token expires (closed with 4001,
/// so the client refreshes and reconnects), or the connection is given up.
pub(crate) async fn read<F: Frames>(
    conn: &Conn,
    stream: &mut SplitStream<WebSocket>,
    every: Duration,
    expiry: &Expiry,
    frames: &mut F,
) {
    let mut heartbeat = interval_at(Instant::now() + every, every);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let expired = tokio::time::sleep(expiry.left());
    tokio::pin!(expired);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            item = stream.next() => {
                heard = Instant::now();
                if !one(conn, frames, item).await {
                    break;
                }
            }
            _ = heartbeat.tick() => {
                if expiry.passed() {
                    conn.close(Close::TOKEN_EXPIRED);
                    break;
                }
                if heard.elapsed() > every * 2 {
                    conn.close(Close::DEAD);
                    break;
                }
                Box::pin(frames.beat()).await;
            }
            () = &mut expired => {
                if expiry.passed() {
                    conn.close(Close::TOKEN_EXPIRED);
                    break;
                }
                expired.as_mut().reset(Instant::now() + expiry.left().max(every));
            }
            () = conn.gone.cancelled() => break,
        }
    }
}

/// Ends a socket whose reader is done: the writer says why (a no-op reason
/// if one was given already) and is given a moment to.
pub(crate) async fn finish(conn: &Conn, writer: tokio::task::JoinHandle<()>) {
    conn.close(Close::NORMAL);
    let _ = timeout(WRITE_TIMEOUT, writer).await;
    conn.gone.cancel();
}

fn too_big(e: &axum::Error) -> bool {
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
