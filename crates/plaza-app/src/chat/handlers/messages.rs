//! A message's edits and tombstone, and its thread.

use axum::Json;
use axum::extract::State;
use plaza_core::{ChatId, MessageId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::chat::model::Message;
use crate::chat::service::{self, Thread};
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson, ValidPath};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    content: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadRead {
    seq: i64,
}

/// `PUT /api/chats/{id}/messages/{message_id}` — edit one's own message.
#[utoipa::path(put, path = "/api/chats/{id}/messages/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)), request_body = EditMessage,
    responses((status = 200, body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_message(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath((chat, message)): ValidPath<(ChatId, MessageId)>,
    ValidJson(req): ValidJson<EditMessage>,
) -> Result<Json<Message>, ApiError> {
    let edited = service::edit_message(&state, me.user_id, chat, message, req.content).await?;
    Ok(Json(edited))
}

/// `DELETE /api/chats/{id}/messages/{message_id}` — one's own, or anyone's as a moderator.
#[utoipa::path(delete, path = "/api/chats/{id}/messages/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The tombstone", body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_message(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath((chat, message)): ValidPath<(ChatId, MessageId)>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(
        service::delete_message(&state, me.user_id, chat, message).await?,
    ))
}

/// `GET /api/chats/{id}/messages/{message_id}/replies` — a thread, oldest first.
#[utoipa::path(get, path = "/api/chats/{id}/messages/{message_id}/replies", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Thread), (status = 404, body = ErrorBody)))]
pub async fn list_replies(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath((chat, root)): ValidPath<(ChatId, MessageId)>,
) -> Result<Json<Thread>, ApiError> {
    Ok(Json(
        service::replies(&state, me.user_id, chat, root).await?,
    ))
}

/// `POST /api/chats/{id}/messages/{message_id}/read` — I have read this thread up to `seq`.
#[utoipa::path(post, path = "/api/chats/{id}/messages/{message_id}/read", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)), request_body = ThreadRead,
    responses((status = 200, body = Thread), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_thread_read(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath((chat, root)): ValidPath<(ChatId, MessageId)>,
    ValidJson(req): ValidJson<ThreadRead>,
) -> Result<Json<Thread>, ApiError> {
    let thread = service::mark_thread_read(&state, me.user_id, chat, root, req.seq).await?;
    Ok(Json(thread))
}
