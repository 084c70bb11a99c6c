//! Seed 001's chat surface: `/api/chats`, `/api/chats/{id}`, its messages,
//! read marker, and the search over my chats.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plaza_core::{ChatId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::chat::model::{Chat, ChatKind, Message, Visibility};
use crate::chat::request::SendMessage;
use crate::chat::service::{self, ChatDetail, ChatSummary, MessagePage, NewChat};
use crate::http::{ApiError, AuthUser, ErrorBody, ValidJson, ValidPath, ValidQuery, page_limit};
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
pub struct ChatList {
    items: Vec<ChatSummary>,
    has_more: bool,
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (all of them), e.g. `release notes`.
    q: String,
    /// Only this chat.
    chat_id: Option<String>,
    /// 1–100, default 20.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// Best match first.
    items: Vec<Message>,
}

/// 201 for what was made now, 200 for what existed (a direct chat, a
/// retried send).
fn made(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
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
    Ok((made(created), Json(chat)))
}

/// `GET /api/chats` — my chats, newest activity first, with the last message and unread count.
#[utoipa::path(get, path = "/api/chats", tag = "chat", security(("bearer" = [])), params(ChatsQuery),
    responses((status = 200, body = ChatList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_chats(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<ChatsQuery>,
) -> Result<Json<ChatList>, ApiError> {
    let page = (
        page_limit(query.limit, 20)?,
        i64::from(query.offset.unwrap_or(0)),
    );
    let (items, has_more) = service::list_chats(&state, me.user_id, page).await?;
    Ok(Json(ChatList { items, has_more }))
}

/// `GET /api/chats/{id}` — one of my chats, with my role and its size.
#[utoipa::path(get, path = "/api/chats/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChatDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_chat(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
) -> Result<Json<ChatDetail>, ApiError> {
    Ok(Json(service::get_chat(&state, me.user_id, id).await?))
}

/// `GET /api/chats/{id}/messages?limit&before_seq|after_seq` — a page of messages, oldest first.
#[utoipa::path(get, path = "/api/chats/{id}/messages", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), MessagesQuery),
    responses((status = 200, body = MessagePage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
    ValidQuery(query): ValidQuery<MessagesQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let limit = page_limit(query.limit, 50)?;
    let around = (query.before_seq, query.after_seq);
    Ok(Json(
        service::list_messages(&state, me.user_id, id, around, limit).await?,
    ))
}

/// `POST /api/chats/{id}/messages` — send; a retry with the same `client_id` returns the first.
#[utoipa::path(post, path = "/api/chats/{id}/messages", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = SendMessage,
    responses(
        (status = 201, body = Message), (status = 200, description = "The message first sent with this client_id", body = Message),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn send_message(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
    ValidJson(req): ValidJson<SendMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let (message, created) = service::send_message(&state, me.user_id, id, req.message()).await?;
    Ok((made(created), Json(message)))
}

/// `POST /api/chats/{id}/read` — mark messages up to `seq` read.
#[utoipa::path(post, path = "/api/chats/{id}/read", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = MarkRead,
    responses((status = 200, body = ReadState), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ChatId>,
    ValidJson(req): ValidJson<MarkRead>,
) -> Result<Json<ReadState>, ApiError> {
    let seq = service::mark_read(&state, me.user_id, id, req.seq).await?;
    Ok(Json(ReadState { last_read_seq: seq }))
}

/// `GET /api/messages/search?q=&chat_id=&limit=` — messages of my chats with all the words.
#[utoipa::path(get, path = "/api/messages/search", tag = "chat", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_messages(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let limit = page_limit(query.limit, 20)?;
    let chat = query.chat_id.as_deref();
    let items = service::search(&state, me.user_id, &query.q, chat, limit).await?;
    Ok(Json(SearchResults { items }))
}
