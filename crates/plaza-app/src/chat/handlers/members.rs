//! Members, roles, mutes, leaving and joining, and a group's channels.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{ChatId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::chat::model::{Chat, MemberId, MemberRole};
use crate::chat::service;
use crate::chat::service::Member;
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson, ValidPath};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    items: Vec<Member>,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    items: Vec<Chat>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMembers {
    #[schema(value_type = Vec<String>)]
    user_ids: Vec<UserId>,
    /// Default `member`; never above the caller's own.
    role: Option<MemberRole>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: MemberRole,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    /// How long; 0 lifts a mute.
    minutes: u32,
}

/// `GET /api/chats/{id}/members`
#[utoipa::path(get, path = "/api/chats/{id}/members", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MemberList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
) -> Result<Json<MemberList>, ApiError> {
    let items = service::list_members(&state, me.user_id, id).await?;
    Ok(Json(MemberList { items }))
}

/// `POST /api/chats/{id}/members` — owners and admins add people.
#[utoipa::path(post, path = "/api/chats/{id}/members", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = AddMembers,
    responses((status = 200, body = MemberList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
    ValidJson(req): ValidJson<AddMembers>,
) -> Result<Json<MemberList>, ApiError> {
    let role = req.role.unwrap_or(MemberRole::Member);
    let items = service::add_members(&state, me.user_id, id, &req.user_ids, role).await?;
    Ok(Json(MemberList { items }))
}

/// `PUT /api/chats/{id}/members/{user_id}` — change a member's role.
#[utoipa::path(put, path = "/api/chats/{id}/members/{user_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)), request_body = RoleChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_role(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath((id, user)): ValidPath<(ChatId, MemberId)>,
    ValidJson(req): ValidJson<RoleChange>,
) -> Result<StatusCode, ApiError> {
    service::change_role(&state, me.user_id, id, user.0, req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/chats/{id}/members/{user_id}` — remove someone (or oneself: leave).
#[utoipa::path(delete, path = "/api/chats/{id}/members/{user_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath((id, user)): ValidPath<(ChatId, MemberId)>,
) -> Result<StatusCode, ApiError> {
    service::remove(&state, me.user_id, id, user.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/chats/{id}/members/{user_id}/mute` — moderators silence a member for a while.
#[utoipa::path(post, path = "/api/chats/{id}/members/{user_id}/mute", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)), request_body = Mute,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mute(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath((id, user)): ValidPath<(ChatId, MemberId)>,
    ValidJson(req): ValidJson<Mute>,
) -> Result<StatusCode, ApiError> {
    service::mute(&state, me.user_id, id, user.0, req.minutes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/chats/{id}/leave` — the last owner's leaving passes ownership on.
#[utoipa::path(post, path = "/api/chats/{id}/leave", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
) -> Result<StatusCode, ApiError> {
    service::leave(&state, me.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/chats/{id}/join` — join a public channel of one's group.
#[utoipa::path(post, path = "/api/chats/{id}/join", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
) -> Result<StatusCode, ApiError> {
    service::join(&state, me.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/chats/{id}/channels` — a group's channels I may see.
#[utoipa::path(get, path = "/api/chats/{id}/channels", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChannelList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_channels(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
) -> Result<Json<ChannelList>, ApiError> {
    let items = service::channels(&state, me.user_id, id).await?;
    Ok(Json(ChannelList { items }))
}
