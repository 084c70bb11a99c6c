//! Live events for a transport other than `/ws` (GraphQL subscriptions):
//! the same hub connection, ordering and resume as a socket, read as a
//! stream of seed 002's frames instead of written to a socket. A feed is
//! attached to every chat of its user, replays what a resume asks for
//! before anything live (in order, once), keeps its user present, and ends
//! when its session is revoked, its token expires or the node stops.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use plaza_core::ChatId;
use tokio::time::{Instant, MissedTickBehavior, Sleep, interval_at, sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::conn::{Close, Conn, Out};
use super::order::Order;
use super::socket::Expiry;
use super::{delivery, frame, service};
use crate::chat::service as chats;
use crate::http::{ApiError, AuthUser};
use crate::state::AppState;

/// Messages one resumed chat replays at most; a client that missed more
/// pages the rest over the API.
pub const MAX_REPLAY: i64 = 1_000;

/// Which chats' events a feed receives.
#[derive(Clone, Copy, Debug)]
pub enum Rooms {
    /// Every chat of its user, and those they join while it is open.
    All,
    /// One chat (it must be watchable; checked by the caller).
    One(ChatId),
    /// None: only what is addressed to the user (notifications, presence).
    None,
}

/// What a feed yields.
#[derive(Debug)]
pub enum Item {
    /// A frame, `{"type": …, "data": {…}}`, as `/ws` would send it.
    Frame(Utf8Bytes),
    /// The feed ended, and why (its session ended, the token expired, …).
    Closed(Close),
}

/// One live feed; dropping it detaches it from the hub.
pub struct Feed {
    state: AppState,
    conn: Arc<Conn>,
    order: Order,
    ready: VecDeque<Utf8Bytes>,
    taken: Vec<Out>,
    expiry: Expiry,
    /// When to look at the expiry next; one timer for the feed's life,
    /// not one per wait.
    check: Pin<Box<Sleep>>,
    /// Done when the node stops (or the feed is dropped); held, not asked
    /// for anew on each wait.
    gone: Pin<Box<WaitForCancellationFutureOwned>>,
    beat: tokio::time::Interval,
    done: bool,
}

/// Opens a feed for `me`, first replaying each chat of `resume` after its
/// seq. A chat `me` may not watch is refused before anything is attached.
pub async fn open(
    state: &AppState,
    me: AuthUser,
    rooms: Rooms,
    resume: &[(ChatId, i64)],
) -> Result<Feed, ApiError> {
    for (chat, after) in resume {
        if *after < 0 {
            return Err(ApiError::invalid_field("lastSeq", "must be 0 or more"));
        }
        chats::may_watch(state, *chat, me.user_id).await?;
    }
    let ws = &state.config.ws;
    let capacity = usize::try_from(ws.send_queue).unwrap_or(usize::MAX);
    let conn = state.hub.open(me.user_id, me.session_id, capacity);
    conn.push(Out::HoldAll);
    let every = ws.ping_interval.0;
    let mut beat = interval_at(Instant::now() + every, every);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let feed = Feed {
        state: state.clone(),
        conn: Arc::clone(&conn),
        order: Order::default(),
        ready: VecDeque::new(),
        taken: Vec::new(),
        expiry: Expiry::of(state, &me),
        check: Box::pin(sleep(Duration::ZERO)),
        gone: Box::pin(conn.gone.clone().cancelled_owned()),
        beat,
        done: false,
    };
    match rooms {
        Rooms::All => {
            if let Err(e) = Box::pin(delivery::attach(state, &conn)).await {
                return Err(e.into());
            }
        }
        Rooms::One(chat) => Box::pin(delivery::attach_to(state, &conn, &[chat])).await,
        Rooms::None => Box::pin(delivery::attach_to(state, &conn, &[])).await,
    }
    Box::pin(service::online(state, &conn)).await;
    let resumed: Vec<ChatId> = resume.iter().map(|(chat, _)| *chat).collect();
    conn.push(Out::Settle { resumed });
    for (chat, after) in resume {
        let backlog = chats::backlog(state, me.user_id, *chat, *after, MAX_REPLAY).await;
        let (found, more) = match backlog {
            Ok(found) => found,
            Err(e) => {
                let reply = frame("resume_failed", serde_json::json!({"chat_id": chat}));
                conn.push(Out::Release { chat: *chat, reply });
                return Err(e.into());
            }
        };
        let messages = found
            .iter()
            .map(|m| (m.seq, frame("new_message", m)))
            .collect();
        let reply = frame(
            "resumed",
            serde_json::json!({"chat_id": chat, "more": more}),
        );
        conn.push(Out::Backlog {
            chat: *chat,
            after: *after,
            messages,
            changes: Vec::new(),
            reply,
        });
    }
    Ok(feed)
}

impl Feed {
    /// The next frame, or why the feed ended (then None ever after).
    pub async fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Some(Item::Frame(frame));
            }
            if self.done {
                return None;
            }
            let close = self.conn.take(&mut self.taken);
            let mut ready = Vec::new();
            for out in self.taken.drain(..) {
                self.order.apply(out, &mut ready);
            }
            self.ready.extend(ready);
            if let Some(close) = close {
                if self.ready.is_empty() {
                    self.done = true;
                    return Some(Item::Closed(close));
                }
                // What was queued before the close is still delivered.
                self.conn.close(close);
                continue;
            }
            if !self.ready.is_empty() {
                continue;
            }
            if self.expiry.passed() {
                self.conn.close(Close::TOKEN_EXPIRED);
                continue;
            }
            if self.check.is_elapsed() {
                // Looked at again at least every minute: the clock may be a test's.
                let left = self.expiry.left().min(Duration::from_secs(60));
                self.check.as_mut().reset(Instant::now() + left);
            }
            tokio::select! {
                () = self.conn.woken() => {}
                _ = self.beat.tick() => {
                    Box::pin(service::heartbeat(&self.state, &self.conn)).await;
                }
                // The expiry is looked at again on the next turn.
                () = self.check.as_mut() => {}
                () = self.gone.as_mut() => {
                    self.done = true;
                    return Some(Item::Closed(Close::SHUTDOWN));
                }
            }
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.state.hub.close(&self.conn);
        self.conn.gone.cancel();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (state, conn) = (self.state.clone(), Arc::clone(&self.conn));
            runtime.spawn(async move { service::offline(&state, &conn).await });
        }
    }
}
