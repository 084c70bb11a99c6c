//! The real-time slice's use cases, which are presence: a user is online
//! while any of their sockets, on any node, has sent a heartbeat within its
//! time to live. Going online or offline is told to the people they share
//! a direct chat with (their contacts).

use plaza_core::UserId;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::conn::Conn;
use super::error::StatusError;
use super::frame;
use super::hub::{USERS_TOPIC, addressed};
use crate::chat::service as chats;
use crate::http::AuthUser;
use crate::state::AppState;

/// Users one status request may ask about.
const MAX_IDS: usize = 100;

fn ttl(state: &AppState) -> std::time::Duration {
    state.config.ws.ping_interval.0 * 2 + std::time::Duration::from_secs(5)
}

async fn is_online(state: &AppState, user: UserId) -> bool {
    !state.presence.online(&[user.to_string()]).await.is_empty()
}

/// A socket of `conn.user` is up.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn online(state: &AppState, conn: &Conn) {
    let was = is_online(state, conn.user).await;
    heartbeat(state, conn).await;
    if !was {
        announce(state, conn.user, "user_online").await;
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn heartbeat(state: &AppState, conn: &Conn) {
    let key = state.hub.presence_key(conn);
    state
        .presence
        .touch(&conn.user.to_string(), &key, ttl(state))
        .await;
}

/// A socket of `conn.user` closed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn offline(state: &AppState, conn: &Conn) {
    let key = state.hub.presence_key(conn);
    state.presence.leave(&conn.user.to_string(), &key).await;
    if !is_online(state, conn.user).await {
        announce(state, conn.user, "user_offline").await;
    }
}

/// Runs on every node until shutdown: users whose every connection
/// expired without a goodbye (their node died) are announced offline, each
/// by the one node that claims them, within a quarter of the presence TTL
/// after it ran out.
pub fn spawn_sweeper(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ttl(&state) / 4);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = state.shutdown.stopping() => return,
            }
            for user in state.presence.expired().await {
                if let Ok(user) = user.parse::<UserId>() {
                    announce(&state, user, "user_offline").await;
                }
            }
        }
    });
}

async fn announce(state: &AppState, user: UserId, kind: &str) {
    let contacts = match state.db.reader().acquire().await {
        Ok(mut db) => chats::direct_contacts(&mut db, user).await,
        Err(e) => Err(e),
    };
    let contacts = match contacts {
        Ok(c) if c.is_empty() => return,
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read whom to tell about presence");
            return;
        }
    };
    let notice = frame(kind, json!({"user_id": user, "at": state.clock.now()}));
    if let Err(e) = state
        .bus
        .publish(USERS_TOPIC, addressed(&contacts, &notice))
        .await
    {
        tracing::warn!(error = %e, "cannot announce presence");
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOnline {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub online: bool,
}

/// Who of the comma-separated `ids` is online now; only those who share a
/// chat with `me` are answered.
#[tracing::instrument(skip(state, me))]
pub async fn status(
    state: &AppState,
    me: AuthUser,
    ids: &str,
) -> Result<Vec<UserOnline>, StatusError> {
    let mut wanted = Vec::new();
    for raw in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id: UserId = raw
            .parse()
            .map_err(|_| StatusError::Ids(format!("`{raw}` is not a user id")))?;
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    if wanted.is_empty() {
        return Err(StatusError::Ids("name at least one user".into()));
    }
    if wanted.len() > MAX_IDS {
        return Err(StatusError::Ids(format!("at most {MAX_IDS}")));
    }
    let visible = {
        let mut db = state.db.reader().acquire().await?;
        chats::share_a_chat(&mut db, me.user_id, &wanted).await?
    };
    let keys: Vec<String> = visible.iter().map(ToString::to_string).collect();
    let online = state.presence.online(&keys).await;
    Ok(visible
        .into_iter()
        .zip(keys)
        .map(|(user_id, key)| UserOnline {
            user_id,
            online: online.contains(&key),
        })
        .collect())
}
