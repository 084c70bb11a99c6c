//! Handlers for members, channels, edits, deletes and reads.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::members;
use super::messages;
use super::model::{Chat, MemberRole, Message};
use super::params::{chat_id, member_id, message_id};
use super::store::Member;
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson};
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    content: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Everything up to this seq is read.
    seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadState {
    last_read_seq: i64,
}

/// `GET /api/chats/{id}/members`
#[utoipa::path(get, path = "/api/chats/{id}/members", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MemberList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    let items = members::list(&state, me.user_id, chat_id(&id)?).await?;
    Ok(Json(MemberList { items }))
}

/// `POST /api/chats/{id}/members` — owners and admins add people.
#[utoipa::path(post, path = "/api/chats/{id}/members", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AddMembers,
    responses((status = 200, body = MemberList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<AddMembers>,
) -> Result<Json<MemberList>, ApiError> {
    if req.user_ids.is_empty() || req.user_ids.len() > 100 {
        return Err(ApiError::invalid_field("user_ids", "give 1 to 100 users"));
    }
    let role = req.role.unwrap_or(MemberRole::Member);
    let items = members::add(&state, me.user_id, chat_id(&id)?, &req.user_ids, role).await?;
    Ok(Json(MemberList { items }))
}

/// `PUT /api/chats/{id}/members/{user_id}` — change a member's role.
#[utoipa::path(put, path = "/api/chats/{id}/members/{user_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = RoleChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_role(
    State(state): State<AppState>,
    me: AuthUser,
    Path((id, user)): Path<(String, String)>,
    ValidJson(req): ValidJson<RoleChange>,
) -> Result<StatusCode, ApiError> {
    members::change_role(
        &state,
        me.user_id,
        chat_id(&id)?,
        member_id(&user)?,
        req.role,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/chats/{id}/members/{user_id}` — remove someone (or oneself: leave).
#[utoipa::path(delete, path = "/api/chats/{id}/members/{user_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    me: AuthUser,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    members::remove(&state, me.user_id, chat_id(&id)?, member_id(&user)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/chats/{id}/leave` — the last owner's leaving passes ownership on.
#[utoipa::path(post, path = "/api/chats/{id}/leave", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    members::leave(&state, me.user_id, chat_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/chats/{id}/join` — join a public channel of one's group.
#[utoipa::path(post, path = "/api/chats/{id}/join", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    members::join(&state, me.user_id, chat_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/chats/{id}/channels` — a group's channels I may see.
#[utoipa::path(get, path = "/api/chats/{id}/channels", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ChannelList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_channels(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ChannelList>, ApiError> {
    let items = members::channels(&state, me.user_id, chat_id(&id)?).await?;
    Ok(Json(ChannelList { items }))
}

/// `PUT /api/chats/{id}/messages/{message_id}` — edit one's own message.
#[utoipa::path(put, path = "/api/chats/{id}/messages/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), ("message_id" = String, Path)), request_body = EditMessage,
    responses((status = 200, body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_message(
    State(state): State<AppState>,
    me: AuthUser,
    Path((id, message)): Path<(String, String)>,
    ValidJson(req): ValidJson<EditMessage>,
) -> Result<Json<Message>, ApiError> {
    let edited = messages::edit_message(
        &state,
        me.user_id,
        chat_id(&id)?,
        message_id(&message)?,
        req.content,
    )
    .await?;
    Ok(Json(edited))
}

/// `DELETE /api/chats/{id}/messages/{message_id}` — one's own, or anyone's as a moderator.
#[utoipa::path(delete, path = "/api/chats/{id}/messages/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), ("message_id" = String, Path)),
    responses((status = 200, description = "The tombstone", body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_message(
    State(state): State<AppState>,
    me: AuthUser,
    Path((id, message)): Path<(String, String)>,
) -> Result<Json<Message>, ApiError> {
    let deleted =
        messages::delete_message(&state, me.user_id, chat_id(&id)?, message_id(&message)?).await?;
    Ok(Json(deleted))
}

/// `POST /api/chats/{id}/read` — mark messages up to `seq` read.
#[utoipa::path(post, path = "/api/chats/{id}/read", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MarkRead,
    responses((status = 200, body = ReadState), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<MarkRead>,
) -> Result<Json<ReadState>, ApiError> {
    let seq = messages::mark_read(&state, me.user_id, chat_id(&id)?, req.seq).await?;
    Ok(Json(ReadState { last_read_seq: seq }))
}

/// `POST /api/chats/{id}/members/{user_id}/mute` — moderators silence a member for a while.
#[utoipa::path(post, path = "/api/chats/{id}/members/{user_id}/mute", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = Mute,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mute(
    State(state): State<AppState>,
    me: AuthUser,
    Path((id, user)): Path<(String, String)>,
    ValidJson(req): ValidJson<Mute>,
) -> Result<StatusCode, ApiError> {
    members::mute(
        &state,
        me.user_id,
        chat_id(&id)?,
        member_id(&user)?,
        req.minutes,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
