//! The `/ws` socket's life (seed 002's protocol; docs/realtime.md): a
//! client that resumes says so first, and its chats are held before live
//! events start, so what it missed comes first and in order; then every
//! chat of the user is delivered, presence is kept, and its frames are
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
    let writer = tokio::spawn(socket::write(Arc::clone(&conn), sink, ws.ping_interval.0));
    let first = timeout(ws.settle.0, stream.next()).await.ok().flatten();
    if let Some(Ok(axum::extract::ws::Message::Text(text))) = &first {
        for chat in commands::resumed_chats(text) {
            conn.push(Out::Hold(chat));
        }
    }
    match Box::pin(super::delivery::attach(&state, &conn)).await {
        Ok(chats) => {
            let ready = json!({"user_id": me.user_id, "chats": chats});
            conn.push(Out::Reply(frame("ready", ready)));
            Box::pin(service::online(&state, &conn)).await;
            let mut reader = Reader::new(&state, &conn, me);
            if first.is_none() || socket::one(&conn, &mut reader, first).await {
                socket::read(&conn, &mut stream, ws.ping_interval.0, &mut reader).await;
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
