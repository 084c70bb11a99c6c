//! Threads (seed 002): replies to a root message, one level deep, with a
//! read marker per member and thread.

use axum::Json;
use axum::extract::{Path, State};
use plaza_core::{ChatId, MessageId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::message_store;
use super::messages;
use super::model::Message;
use super::params::{chat_id, message_id};
use super::service::{ChatError, membership};
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Thread {
    /// Oldest first.
    items: Vec<Message>,
    total: i64,
    /// The newest reply seq I have read in this thread.
    last_read_seq: i64,
    /// Others' live replies after it.
    unread_count: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadRead {
    seq: i64,
}

/// The root, if it is a message of `chat` that a member may see.
async fn root_of(
    conn: &mut AnyConnection,
    chat: ChatId,
    root: MessageId,
    me: UserId,
) -> Result<Message, ChatError> {
    membership(conn, chat, me).await?;
    message_store::find_message(conn, root)
        .await?
        .filter(|m| m.chat_id == chat && m.reply_to.is_none())
        .ok_or(ChatError::MessageNotFound)
}

async fn read_marker(
    conn: &mut AnyConnection,
    root: MessageId,
    me: UserId,
) -> Result<i64, sqlx::Error> {
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT last_read_seq FROM thread_reads WHERE root_id = $1 AND user_id = $2",
    )
    .bind(root)
    .bind(me)
    .fetch_optional(conn)
    .await?;
    Ok(seq.unwrap_or(0))
}

/// `GET /api/chats/{id}/messages/{message_id}/replies` — a thread, oldest first.
#[utoipa::path(get, path = "/api/chats/{id}/messages/{message_id}/replies", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), ("message_id" = String, Path)),
    responses((status = 200, body = Thread), (status = 404, body = ErrorBody)))]
pub async fn list_replies(
    State(state): State<AppState>,
    me: AuthUser,
    Path((chat, root)): Path<(String, String)>,
) -> Result<Json<Thread>, ApiError> {
    let (chat, root) = (chat_id(&chat)?, message_id(&root)?);
    let mut conn = state.db.fresh().acquire().await?;
    root_of(&mut conn, chat, root, me.user_id).await?;
    let items = message_store::replies(&mut conn, root, 500).await?;
    let items = messages::with_reactions(&mut conn, chat, me.user_id, items).await?;
    let last_read_seq = read_marker(&mut conn, root, me.user_id).await?;
    let unread_count = items
        .iter()
        .filter(|m| m.seq > last_read_seq && !m.deleted && m.sender_id != Some(me.user_id))
        .count() as i64;
    Ok(Json(Thread {
        total: items.len() as i64,
        items,
        last_read_seq,
        unread_count,
    }))
}

/// `POST /api/chats/{id}/messages/{message_id}/read` — I have read this thread up to `seq`.
#[utoipa::path(post, path = "/api/chats/{id}/messages/{message_id}/read", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), ("message_id" = String, Path)), request_body = ThreadRead,
    responses((status = 200, body = Thread), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_thread_read(
    State(state): State<AppState>,
    me: AuthUser,
    Path((chat_raw, root_raw)): Path<(String, String)>,
    ValidJson(req): ValidJson<ThreadRead>,
) -> Result<Json<Thread>, ApiError> {
    let (chat, root) = (chat_id(&chat_raw)?, message_id(&root_raw)?);
    let mut tx = state.db.begin().await?;
    let (found, _) = membership(&mut tx, chat, me.user_id).await?;
    root_of(&mut tx, chat, root, me.user_id).await?;
    if req.seq < 0 || req.seq > found.last_seq {
        return Err(ApiError::invalid_field(
            "seq",
            format!("between 0 and {}", found.last_seq),
        ));
    }
    sqlx::query(
        "INSERT INTO thread_reads (root_id, user_id, last_read_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (root_id, user_id) DO UPDATE SET last_read_seq = \
         CASE WHEN excluded.last_read_seq > thread_reads.last_read_seq \
         THEN excluded.last_read_seq ELSE thread_reads.last_read_seq END",
    )
    .bind(root)
    .bind(me.user_id)
    .bind(req.seq)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    list_replies(State(state), me, Path((chat_raw, root_raw))).await
}
