//! The `/ws` socket's life (seed 002's protocol; docs/realtime.md): the
//! socket is attached to every chat of its user at once and told `ready`;
//! live events wait for the client's first frame (at most `ws.settle`), so
//! a client that resumes first gets what it missed, then what arrived
//! meanwhile, in order and once; presence is kept, and its frames are
//! handled by [`Reader`].

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::json;
use tokio::time::timeout;

use super::commands::{self, Reader};
use super::conn::{Close, Out};
use super::socket::{self, Halves};
use super::{frame, service};
use crate::http::AuthUser;
use crate::state::AppState;

/// Runs one `/ws` socket until it closes.
pub(crate) async fn run(state: AppState, (sink, mut stream): Halves, me: AuthUser) {
    let ws = &state.config.ws;
    let capacity = usize::try_from(ws.send_queue).unwrap_or(usize::MAX);
    let conn = state.hub.open(me.user_id, me.session_id, capacity);
    conn.push(Out::HoldAll);
    let writer = tokio::spawn(socket::write(Arc::clone(&conn), sink, ws.ping_interval.0));
    match Box::pin(super::delivery::attach(&state, &conn)).await {
        Ok(chats) => {
            let now = state.clock.now();
            let ready = json!({"user_id": me.user_id, "chats": chats, "server_time": now});
            conn.push(Out::Reply(frame("ready", ready)));
            Box::pin(service::online(&state, &conn)).await;
            // Live events are held until the client's first frame, so a
            // resume sent first merges with them by seq.
            let first = timeout(ws.settle.0, stream.next()).await.ok().flatten();
            let resumed = match &first {
                Some(Ok(axum::extract::ws::Message::Text(text))) => commands::resumed_chats(text),
                _ => Vec::new(),
            };
            conn.push(Out::Settle { resumed });
            let mut reader = Reader::new(&state, &conn, me);
            if first.is_none() || socket::one(&conn, &mut reader, first).await {
                let expiry = socket::Expiry::of(&state, &me);
                socket::read(&conn, &mut stream, ws.ping_interval.0, &expiry, &mut reader).await;
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot load a socket's chats");
            conn.close(Close {
                code: 1011,
                reason: "internal error",
            });
        }
    }
    state.hub.close(&conn);
    socket::finish(&conn, writer).await;
    Box::pin(service::offline(&state, &conn)).await;
}
