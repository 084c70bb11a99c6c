//! `/api/meditation/rooms`: rooms listed, opened, looked into, invited
//! to and closed over REST.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{RoomId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{RoomDetail, RoomView, Visibility};
use super::service::{self, NewRoom};
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson, ValidPath, ValidQuery, page_limit};
use crate::meditation::model::SessionType;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomBody {
    pub room: RoomView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomPage {
    pub items: Vec<RoomView>,
    pub total: i64,
    pub has_more: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// 1–100 characters.
    pub name: String,
    /// At most 1000 characters.
    pub description: Option<String>,
    /// Default `public`.
    pub visibility: Option<Visibility>,
    /// Default `mindfulness`.
    #[serde(rename = "type")]
    pub kind: Option<SessionType>,
    /// 2–1000, default 100.
    pub max_participants: Option<i64>,
    /// People to invite (for invite-only rooms).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub invite: Vec<UserId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    #[schema(value_type = Vec<String>)]
    pub user_ids: Vec<UserId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    /// How many of the people named were not invited before.
    pub invited: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoomsQuery {
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Default 0.
    offset: Option<u32>,
}

/// `POST /api/meditation/rooms` — open a room; I am its host.
#[utoipa::path(post, path = "/api/meditation/rooms", tag = "meditation", security(("bearer" = [])),
    request_body = CreateRoomRequest,
    responses((status = 201, body = RoomBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<CreateRoomRequest>,
) -> Result<(StatusCode, Json<RoomBody>), ApiError> {
    let new = NewRoom {
        name: req.name,
        description: req.description,
        visibility: req.visibility,
        kind: req.kind,
        max_participants: req.max_participants,
        invite: req.invite,
    };
    let room = service::create(&state, me, new).await?;
    Ok((StatusCode::CREATED, Json(RoomBody { room })))
}

/// `GET /api/meditation/rooms?limit&offset` — the rooms I may join: public
/// ones, mine, and those I am invited to; newest first.
#[utoipa::path(get, path = "/api/meditation/rooms", tag = "meditation", security(("bearer" = [])),
    params(RoomsQuery),
    responses((status = 200, body = RoomPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<RoomsQuery>,
) -> Result<Json<RoomPage>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    let offset = i64::from(query.offset.unwrap_or(0));
    let page = service::list(&state, me, (limit, offset)).await?;
    Ok(Json(RoomPage {
        items: page.items,
        total: page.total,
        has_more: page.has_more,
    }))
}

/// `GET /api/meditation/rooms/{id}` — a room and who is in it.
#[utoipa::path(get, path = "/api/meditation/rooms/{id}", tag = "meditation", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = RoomDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<RoomId>,
) -> Result<Json<RoomDetail>, ApiError> {
    Ok(Json(service::get(&state, me, id).await?))
}

/// `POST /api/meditation/rooms/{id}/invites` — the host invites people.
#[utoipa::path(post, path = "/api/meditation/rooms/{id}/invites", tag = "meditation", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = InviteRequest,
    responses((status = 200, body = Invited),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<RoomId>,
    ValidJson(req): ValidJson<InviteRequest>,
) -> Result<Json<Invited>, ApiError> {
    let invited = service::invite(&state, me, id, &req.user_ids).await?;
    Ok(Json(Invited { invited }))
}

/// `DELETE /api/meditation/rooms/{id}` — the host (or an admin) closes a
/// room: a group session under way ends for everyone, and the people in it
/// are told `room_closed`.
#[utoipa::path(delete, path = "/api/meditation/rooms/{id}", tag = "meditation", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<RoomId>,
) -> Result<StatusCode, ApiError> {
    service::close(&state, me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
