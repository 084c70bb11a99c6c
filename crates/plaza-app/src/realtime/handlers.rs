//! `GET /ws` and `GET /api/users/online`.

use axum::Json;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service::{self, UserOnline};
use super::socket::{self, WsQuery};
use crate::http::{ApiError, AuthUser, ErrorBody, MaybeAuthUser, ValidQuery};
use crate::state::AppState;

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
    socket::upgrade(state, by_header, query.token, upgrade, super::ws::run).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnlineQuery {
    /// Comma-separated user ids (at most 100).
    ids: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnlineStatus {
    /// The users asked about who share a chat with the caller; others are left out.
    pub users: Vec<UserOnline>,
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
    let users = service::status(&state, me, &query.ids).await?;
    Ok(Json(OnlineStatus { users }))
}
