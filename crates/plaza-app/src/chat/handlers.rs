//! Seed 001's chat surface: `/api/chats` and `/api/chats/{id}/messages`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use plaza_core::{ChatId, MessageId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Chat, ChatKind, MemberRole, Message, MessageType, Visibility};
use super::params::chat_id;
use super::service::{self, NewChat, NewMessage};
use super::{message_store, messages, store};
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidJson, ValidQuery, page_limit};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChatRequest {
    #[serde(rename = "type")]
    kind: ChatKind,
    name: Option<String>,
    /// The other members (for `direct`, exactly one).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    member_ids: Vec<UserId>,
    visibility: Option<Visibility>,
    /// The group a `channel` belongs to.
    #[schema(value_type = Option<String>)]
    group_id: Option<ChatId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    content: String,
    message_type: Option<MessageType>,
    #[schema(value_type = Option<String>)]
    reply_to: Option<MessageId>,
    /// Chosen by the client; a retry with the same value returns the first message.
    client_id: Option<String>,
    /// Files uploaded with `POST /api/files` (at most 10).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    attachment_ids: Vec<plaza_core::FileId>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// 1–100, default 50.
    limit: Option<u32>,
    /// Older than this seq.
    before_seq: Option<i64>,
    /// Newer than this seq (for catching up).
    after_seq: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChatsQuery {
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    /// Oldest first.
    items: Vec<Message>,
    has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ChatSummary {
    #[serde(flatten)]
    chat: Chat,
    role: MemberRole,
    unread_count: i64,
    last_read_seq: i64,
    last_message: Option<Message>,
}

#[derive(Serialize, ToSchema)]
pub struct ChatList {
    items: Vec<ChatSummary>,
    has_more: bool,
}

/// `POST /api/chats` — a direct chat (found if it exists), a group, or a channel in a group.
#[utoipa::path(post, path = "/api/chats", tag = "chat", security(("bearer" = [])),
    request_body = CreateChatRequest,
    responses(
        (status = 201, body = Chat), (status = 200, description = "The existing direct chat", body = Chat),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn create_chat(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<CreateChatRequest>,
) -> Result<(StatusCode, Json<Chat>), ApiError> {
    let new = NewChat {
        kind: req.kind,
        name: req.name,
        member_ids: req.member_ids,
        visibility: req.visibility,
        group_id: req.group_id,
    };
    let (chat, created) = service::create_chat(&state, me.user_id, new).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(chat),
    ))
}

/// `GET /api/chats` — my chats, newest activity first, with the last message and unread count.
#[utoipa::path(get, path = "/api/chats", tag = "chat", security(("bearer" = [])), params(ChatsQuery),
    responses((status = 200, body = ChatList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_chats(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<ChatsQuery>,
) -> Result<Json<ChatList>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    let mut conn = state.db.fresh().acquire().await?;
    let mut rows = store::my_chats(
        &mut conn,
        me.user_id,
        limit + 1,
        i64::from(query.offset.unwrap_or(0)),
    )
    .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let newest: Vec<(ChatId, i64)> = rows.iter().map(|r| (r.chat.id, r.chat.last_seq)).collect();
    let mut last = message_store::last_messages(&mut conn, &newest).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let last_message = last.remove(&row.chat.id);
        items.push(ChatSummary {
            chat: row.chat,
            role: row.role,
            unread_count: row.unread,
            last_read_seq: row.last_read_seq,
            last_message,
        });
    }
    Ok(Json(ChatList { items, has_more }))
}

/// `GET /api/chats/{id}/messages?limit&before_seq|after_seq` — a page of messages, oldest first.
#[utoipa::path(get, path = "/api/chats/{id}/messages", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path), MessagesQuery),
    responses((status = 200, body = MessagePage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<MessagesQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let id = chat_id(&id)?;
    let limit = page_limit(query.limit, 50)?;
    if query.before_seq.is_some() && query.after_seq.is_some() {
        return Err(ApiError::invalid_field(
            "before_seq",
            "give before_seq or after_seq, not both",
        ));
    }
    let mut conn = state.db.fresh().acquire().await?;
    service::membership(&mut conn, id, me.user_id).await?;
    let mut items =
        message_store::list_messages(&mut conn, id, query.before_seq, query.after_seq, limit)
            .await?;
    let has_more = items.len() as i64 > limit;
    if has_more {
        // One extra was read: drop it from the far end of the page.
        if query.after_seq.is_some() {
            items.pop();
        } else {
            items.remove(0);
        }
    }
    let items = messages::with_reactions(&mut conn, id, me.user_id, items).await?;
    Ok(Json(MessagePage { items, has_more }))
}

/// `POST /api/chats/{id}/messages` — send; a retry with the same `client_id` returns the first.
#[utoipa::path(post, path = "/api/chats/{id}/messages", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SendMessageRequest,
    responses(
        (status = 201, body = Message), (status = 200, description = "The message first sent with this client_id", body = Message),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn send_message(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    ValidJson(req): ValidJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let id = chat_id(&id)?;
    let new = NewMessage {
        content: req.content,
        message_type: req.message_type.unwrap_or(MessageType::Text),
        reply_to: req.reply_to,
        client_id: req.client_id,
        attachment_ids: req.attachment_ids,
    };
    let (message, created) = service::send_message(&state, me.user_id, id, new).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(message),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ChatDetail {
    #[serde(flatten)]
    chat: Chat,
    role: MemberRole,
    member_count: i64,
    last_read_seq: i64,
}

/// `GET /api/chats/{id}` — one of my chats, with my role and its size.
#[utoipa::path(get, path = "/api/chats/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ChatDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_chat(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ChatDetail>, ApiError> {
    let id = chat_id(&id)?;
    let mut conn = state.db.fresh().acquire().await?;
    let (chat, role) = service::membership(&mut conn, id, me.user_id).await?;
    let members = store::members(&mut conn, id).await?;
    let last_read_seq = members
        .iter()
        .find(|m| m.user_id == me.user_id)
        .map_or(0, |m| m.last_read_seq);
    Ok(Json(ChatDetail {
        chat,
        role,
        member_count: members.len() as i64,
        last_read_seq,
    }))
}
