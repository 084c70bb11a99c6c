//! Presence: a user is online while any of their sockets, on any node, has
//! sent a heartbeat within its time to live. Going online or offline is
//! told to the people they share a direct chat with (their contacts).

use axum::Json;
use axum::extract::State;
use plaza_core::UserId;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::conn::Conn;
use super::frame;
use super::hub::{USERS_TOPIC, addressed};
use crate::chat::service as chats;
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidQuery};
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
pub async fn online(state: &AppState, conn: &Conn) {
    let was = is_online(state, conn.user).await;
    heartbeat(state, conn).await;
    if !was {
        announce(state, conn.user, "user_online").await;
    }
}

pub async fn heartbeat(state: &AppState, conn: &Conn) {
    let key = state.hub.presence_key(conn);
    state
        .presence
        .touch(&conn.user.to_string(), &key, ttl(state))
        .await;
}

/// A socket of `conn.user` closed.
pub async fn offline(state: &AppState, conn: &Conn) {
    let key = state.hub.presence_key(conn);
    state.presence.leave(&conn.user.to_string(), &key).await;
    if !is_online(state, conn.user).await {
        announce(state, conn.user, "user_offline").await;
    }
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

#[derive(Debug, Deserialize, IntoParams)]
pub struct OnlineQuery {
    /// Comma-separated user ids (at most 100).
    ids: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnlineStatus {
    /// The users asked about who share a chat with the caller; others are left out.
    pub users: Vec<UserOnline>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOnline {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub online: bool,
}

/// `GET /api/users/online?ids=…` — who of these is online now.
#[utoipa::path(get, path = "/api/users/online", tag = "realtime", security(("bearer" = [])),
    params(OnlineQuery),
    responses(
        (status = 200, body = OnlineStatus),
        (status = 401, body = ErrorBody),
        (status = 422, description = "An id is malformed, or more than 100", body = ErrorBody),
    ))]
pub async fn online_status(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<OnlineQuery>,
) -> Result<Json<OnlineStatus>, ApiError> {
    let mut ids = Vec::new();
    for raw in query
        .ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let id: UserId = raw
            .parse()
            .map_err(|_| ApiError::invalid_field("ids", format!("`{raw}` is not a user id")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(ApiError::invalid_field("ids", "name at least one user"));
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::invalid_field("ids", format!("at most {MAX_IDS}")));
    }
    let visible = {
        let mut db = state.db.reader().acquire().await?;
        chats::share_a_chat(&mut db, me.user_id, &ids).await?
    };
    let keys: Vec<String> = visible.iter().map(ToString::to_string).collect();
    let online = state.presence.online(&keys).await;
    let users = visible
        .into_iter()
        .zip(keys)
        .map(|(user_id, key)| UserOnline {
            user_id,
            online: online.contains(&key),
        })
        .collect();
    Ok(Json(OnlineStatus { users }))
}
