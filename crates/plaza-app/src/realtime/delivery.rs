//! Delivery to this node's sockets: each chat room's pump listens to the
//! chat's bus topic and fans each event out to the room's sockets, and the
//! node-wide listeners route membership changes, frames for users and
//! ended sessions. An event arrives serialised once and is shared, not
//! copied, by every recipient.
//!
//! The pump also orders new messages: it remembers the last seq it passed
//! on and, when the bus brings a later one first (senders commit in seq
//! order but publish in any), reads the ones in between from the database,
//! so every socket sees a chat's messages contiguously.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use plaza_core::{ChatId, UserId};
use plaza_platform::bus::RecvError;
use serde::Deserialize;

use super::conn::{Close, Conn, Out};
use super::frame;
use super::hub::{self, Room, USERS_TOPIC};
use crate::chat::events::{self, MEMBERSHIP_TOPIC, Membership};
use crate::chat::service as chats;
use crate::http::auth::revocation::SESSION_ENDED_TOPIC;
use crate::state::AppState;

/// How long a socket waits for a chat's subscription before it is
/// reported ready anyway (a message in between is filled in later).
pub const LIVE_WAIT: Duration = Duration::from_secs(5);

/// New messages a pump reads from the database to close one gap.
const MAX_FILL: i64 = 500;

/// Starts delivering every chat `conn`'s user is a member of.
pub async fn attach(state: &AppState, conn: &Arc<Conn>) -> Result<usize, sqlx::Error> {
    let chats = {
        let mut db = state.db.fresh().acquire().await?;
        chats::chat_ids_of(&mut db, conn.user).await?
    };
    attach_to(state, conn, &chats).await;
    Ok(chats.len())
}

/// Starts delivering only `chats` to `conn` (none: only what is sent to
/// its user — notifications, presence — and its session's end).
pub async fn attach_to(state: &AppState, conn: &Arc<Conn>, chats: &[ChatId]) {
    listen(state).await;
    let rooms: Vec<Arc<Room>> = chats
        .iter()
        .filter_map(|chat| enter(state, *chat, conn))
        .collect();
    // All at once, under one limit: a socket with fifty new rooms waits
    // for the slowest subscription, not for fifty in a row.
    let waits = rooms.iter().map(|room| room.live(LIVE_WAIT));
    futures_util::future::join_all(waits).await;
}

/// Delivers `chat`'s events to `conn` once the returned room is live
/// (None if it already received them).
pub fn enter(state: &AppState, chat: ChatId, conn: &Arc<Conn>) -> Option<Arc<Room>> {
    state.hub.enter(chat, conn, |room| {
        tokio::spawn(pump(state.clone(), chat, room)).abort_handle()
    })
}

/// Subscribes, once per node, to what concerns sockets rather than
/// chats: membership changes, frames for users, ended sessions, and
/// shutdown.
async fn listen(state: &AppState) {
    state
        .hub
        .once(async {
            for topic in [MEMBERSHIP_TOPIC, USERS_TOPIC, SESSION_ENDED_TOPIC] {
                // Subscribed before the first socket attaches, unless the
                // bus is away: then in the background, and sockets do not wait.
                match state.bus.subscribe(topic).await {
                    Ok(sub) => drop(tokio::spawn(listener(state.clone(), topic, sub))),
                    Err(e) => {
                        tracing::warn!(topic, error = %e, "cannot subscribe yet; retrying in the background");
                        let state = state.clone();
                        tokio::spawn(async move {
                            let sub = super::subscribe(&state, topic).await;
                            listener(state, topic, sub).await;
                        });
                    }
                }
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

async fn listener(
    state: AppState,
    topic: &'static str,
    mut sub: plaza_platform::bus::Subscription,
) {
    while let Some(message) = super::receive(&mut sub, topic).await {
        match topic {
            MEMBERSHIP_TOPIC => membership_changed(&state, &message.payload),
            USERS_TOPIC => tell_users(&state.hub, &message.payload),
            _ => close_ended(&state.hub, &message.payload),
        }
    }
}

/// People joined or left chats: their sockets here enter or leave the
/// rooms, and are told once the new rooms are live, so nothing sent after
/// the notice can be missed.
fn membership_changed(state: &AppState, payload: &Bytes) {
    let Ok(change) = serde_json::from_slice::<Membership>(payload) else {
        tracing::warn!("unreadable membership change");
        return;
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
        for conn in state.hub.conns_of(*user) {
            for chat in &change.chat_ids {
                if change.joined {
                    rooms.extend(enter(state, *chat, &conn));
                } else {
                    state.hub.leave(*chat, &conn);
                }
            }
            told.push(conn);
        }
    }
    tokio::spawn(async move {
        for room in rooms {
            room.live(LIVE_WAIT).await;
        }
        for conn in told {
            conn.push(Out::Reply(notice.clone()));
        }
    });
}

/// A frame for some users: to each of their sockets here.
fn tell_users(hub: &hub::Hub, payload: &Bytes) {
    let Some((to, body)) = hub::split_addressed(payload) else {
        return;
    };
    let Ok(body) = Utf8Bytes::try_from(body) else {
        return;
    };
    for user in to {
        for conn in hub.conns_of(user) {
            conn.push(Out::Reply(body.clone()));
        }
    }
}

/// A session ended: its sockets here close.
fn close_ended(hub: &hub::Hub, payload: &Bytes) {
    let Some(session) = super::ended_session(payload) else {
        return;
    };
    for conn in hub.all().into_iter().filter(|c| c.session == session) {
        conn.close(Close::SESSION_ENDED);
    }
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
    let mut missed = false;
    let mut sub = loop {
        match state.bus.subscribe(&topic).await {
            Ok(sub) => break sub,
            Err(e) => {
                // The bus is away: sockets waiting for this room go ready
                // now, and what is committed meanwhile is read from the
                // database once the subscription holds.
                room.set_live();
                missed = true;
                tracing::debug!(chat_id = %chat, error = %e, "cannot subscribe to a chat; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    room.set_live();
    if missed {
        catch_up(&state, chat, &room, &mut last).await;
    }
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
    room.deliver(chat, seq, &frame, skip);
}

/// Passes on what was committed while the pump could not subscribe.
async fn catch_up(state: &AppState, chat: ChatId, room: &Room, last: &mut Option<i64>) {
    let top = match state.db.fresh().acquire().await {
        Ok(mut db) => chats::last_seq(&mut db, chat).await.ok().flatten(),
        Err(_) => None,
    };
    let after = last.unwrap_or(0);
    if let Some(top) = top.filter(|top| *top > after) {
        fill(state, chat, room, after, top + 1).await;
        *last = Some(top);
    }
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
                room.deliver(chat, Some(m.seq), &frame, None);
            }
        }
        Err(e) => {
            tracing::warn!(chat_id = %chat, error = %e, "cannot fill a gap in a chat's events")
        }
    }
}
