//! Seed 002's message paths over the same chats: `/api/v1/messages`,
//! `/api/v1/messages/group/{group_id}`, reactions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::{ChatId, MessageId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{ChatKind, Message, MessageType};
use super::params::{chat_id, message_id};
use super::reactions::{self, Reactions};
use super::service::{self, ChatError, NewMessage, membership};
use super::{message_store, messages, store};
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct V1Send {
    #[schema(value_type = String)]
    group_id: ChatId,
    /// A channel of the group; absent, the message goes to the group itself.
    #[schema(value_type = Option<String>)]
    channel_id: Option<ChatId>,
    content: String,
    message_type: Option<MessageType>,
    #[schema(value_type = Option<String>)]
    reply_to: Option<MessageId>,
    client_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    attachment_ids: Vec<plaza_core::FileId>,
}

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
    request_body = V1Send,
    responses((status = 201, body = Message), (status = 200, description = "A retried client_id", body = Message),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<V1Send>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let target = match req.channel_id {
        None => req.group_id,
        Some(channel) => {
            let mut conn = state.db.fresh().acquire().await?;
            let found = store::find_chat(&mut conn, channel).await?;
            if !found
                .is_some_and(|c| c.kind == ChatKind::Channel && c.group_id == Some(req.group_id))
            {
                return Err(ChatError::NotFound.into());
            }
            channel
        }
    };
    let new = NewMessage {
        content: req.content,
        message_type: req.message_type.unwrap_or(MessageType::Text),
        reply_to: req.reply_to,
        client_id: req.client_id,
        attachment_ids: req.attachment_ids,
    };
    let (message, created) = service::send_message(&state, me.user_id, target, new).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(message),
    ))
}

/// `GET /api/v1/messages/group/{group_id}?limit=50&offset=0` — newest first (seed 002).
#[utoipa::path(get, path = "/api/v1/messages/group/{group_id}", tag = "chat", security(("bearer" = [])),
    params(("group_id" = String, Path), V1Page),
    responses((status = 200, body = V1Messages), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn group_messages(
    State(state): State<AppState>,
    me: AuthUser,
    Path(group): Path<String>,
    ValidQuery(query): ValidQuery<V1Page>,
) -> Result<Json<V1Messages>, ApiError> {
    let group = chat_id(&group)?;
    let limit = page_limit(query.limit, 50)?;
    let offset = i64::from(query.offset.unwrap_or(0));
    let mut conn = state.db.fresh().acquire().await?;
    membership(&mut conn, group, me.user_id).await?;
    let (items, total) = message_store::page_newest_first(&mut conn, group, limit, offset).await?;
    // Still newest first: reactions are filled in place.
    let items = messages::with_reactions(&mut conn, group, me.user_id, items).await?;
    Ok(Json(V1Messages {
        has_more: offset + limit < total,
        items,
        total,
    }))
}

/// `POST /api/v1/messages/{message_id}/reactions` — react (again is a no-op).
#[utoipa::path(post, path = "/api/v1/messages/{message_id}/reactions", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path)), request_body = ReactionRequest,
    responses((status = 200, body = ReactionState), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_reaction(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<ReactionRequest>,
) -> Result<Json<ReactionState>, ApiError> {
    let id = message_id(&id)?;
    let (_, reactions) = reactions::react(&state, me.user_id, id, &req.emoji, true).await?;
    Ok(Json(ReactionState {
        message_id: id,
        reactions,
    }))
}

/// `DELETE /api/v1/messages/{message_id}/reactions?emoji=👍` — take a reaction back.
#[utoipa::path(delete, path = "/api/v1/messages/{message_id}/reactions", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path), ReactionQuery),
    responses((status = 200, body = ReactionState), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<ReactionQuery>,
) -> Result<Json<ReactionState>, ApiError> {
    let id = message_id(&id)?;
    let (_, reactions) = reactions::react(&state, me.user_id, id, &query.emoji, false).await?;
    Ok(Json(ReactionState {
        message_id: id,
        reactions,
    }))
}
