//! Seed 002's message paths over the same chats: `/api/v1/messages`,
//! `/api/v1/messages/group/{group_id}`, reactions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{ChatId, MessageId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::chat::model::Message;
use crate::chat::reactions::Reactions;
use crate::chat::request::GroupSend;
use crate::chat::service;
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson, ValidPath, ValidQuery, page_limit};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct V1Page {
    /// 1–100, default 50.
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct V1Messages {
    /// Newest first.
    items: Vec<Message>,
    total: i64,
    has_more: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionRequest {
    #[schema(example = "👍")]
    emoji: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReactionQuery {
    emoji: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReactionState {
    #[schema(value_type = String)]
    message_id: MessageId,
    reactions: Reactions,
}

/// `POST /api/v1/messages` — send to a group or one of its channels (seed 002).
#[utoipa::path(post, path = "/api/v1/messages", tag = "chat", security(("bearer" = [])),
    request_body = GroupSend,
    responses((status = 201, body = Message), (status = 200, description = "A retried client_id", body = Message),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<GroupSend>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let (group, channel) = (req.group_id, req.channel_id);
    let (message, created) =
        service::send_to_group(&state, me.user_id, group, channel, req.message()).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(message)))
}

/// `GET /api/v1/messages/group/{group_id}?limit=50&offset=0` — newest first (seed 002).
#[utoipa::path(get, path = "/api/v1/messages/group/{group_id}", tag = "chat", security(("bearer" = [])),
    params(("group_id" = String, Path, format = Uuid), V1Page),
    responses((status = 200, body = V1Messages), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn group_messages(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(group): ValidPath<ChatId>,
    ValidQuery(query): ValidQuery<V1Page>,
) -> Result<Json<V1Messages>, ApiError> {
    let limit = page_limit(query.limit, 50)?;
    let offset = i64::from(query.offset.unwrap_or(0));
    let (items, total) = service::group_page(&state, me.user_id, group, (limit, offset)).await?;
    Ok(Json(V1Messages {
        has_more: offset + limit < total,
        items,
        total,
    }))
}

/// `POST /api/v1/messages/{message_id}/reactions` — react (again is a no-op).
#[utoipa::path(post, path = "/api/v1/messages/{message_id}/reactions", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path, format = Uuid)), request_body = ReactionRequest,
    responses((status = 200, body = ReactionState), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_reaction(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<MessageId>,
    ValidJson(req): ValidJson<ReactionRequest>,
) -> Result<Json<ReactionState>, ApiError> {
    let (_, reactions) = service::react(&state, me.user_id, id, &req.emoji, true).await?;
    Ok(Json(ReactionState {
        message_id: id,
        reactions,
    }))
}

/// `DELETE /api/v1/messages/{message_id}/reactions?emoji=👍` — take a reaction back.
#[utoipa::path(delete, path = "/api/v1/messages/{message_id}/reactions", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path, format = Uuid), ReactionQuery),
    responses((status = 200, body = ReactionState), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<MessageId>,
    ValidQuery(query): ValidQuery<ReactionQuery>,
) -> Result<Json<ReactionState>, ApiError> {
    let (_, reactions) = service::react(&state, me.user_id, id, &query.emoji, false).await?;
    Ok(Json(ReactionState {
        message_id: id,
        reactions,
    }))
}
