//! The coach over REST: seed 003's `POST /api/ai/enhanced-chat` (an answer
//! inline, 202 while it is on the queue, or a stream of its pieces), plans
//! from the coach, requests, and my conversations.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::{self, Stream};
use plaza_core::{AiRequestId, ConversationId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::live::Note;
use super::model::{AiRequest, ChatMessage, Conversation, Topic, Urgency};
use super::service::{self, Ask, Asked, Settled};
use super::usage::{self, UsageRow};
use crate::fitness::records::{Plan, PlanKind};
use crate::http::{
    AdminUser, ApiError, AuthUser, ErrorBody, ValidJson, ValidPath, ValidQuery, page_limit,
};
use crate::state::AppState;

/// Seed 003's request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnhancedChat {
    /// 1–4000 characters.
    pub message: String,
    /// `workout`, `nutrition`, `progress` or `general` (the default); a
    /// continued conversation keeps its own.
    pub topic: Option<Topic>,
    /// What the app knows (`{"fitnessLevel": "intermediate"}`), passed to
    /// the model as the person's data; an object of at most 4 KiB.
    #[schema(value_type = Option<Object>)]
    pub context: Option<Value>,
    /// `high`, `normal` (the default) or `low`: the place on the `ai` queue.
    pub priority: Option<Urgency>,
    /// Continue this conversation of mine.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub conversation_id: Option<ConversationId>,
}

/// An answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatReply {
    /// The answer's text.
    pub reply: String,
    /// `offline` (plaza's rule-based coach) or the model that answered.
    pub provider: String,
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: ConversationId,
    pub message: ChatMessage,
    pub request: AiRequest,
}

/// Still on the queue: follow `request` at `GET /api/ai/requests/{id}`,
/// or wait for the `ai.answer` socket event and notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct AiAccepted {
    pub request: AiRequest,
    #[schema(value_type = String, format = Uuid)]
    pub job_id: plaza_core::JobId,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskPlan {
    pub kind: PlanKind,
    pub priority: Option<Urgency>,
    /// What to take into account, at most 4000 characters.
    #[serde(default)]
    pub instructions: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanReply {
    pub plan: Plan,
    pub request: AiRequest,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestBody {
    pub request: AiRequest,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChatsQuery {
    topic: Option<Topic>,
    /// 1–100, default 20.
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationList {
    /// The latest first.
    pub items: Vec<Conversation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AiThread {
    pub conversation: Conversation,
    /// Oldest first.
    pub messages: Vec<ChatMessage>,
    /// Whether an answer is still being written.
    pub pending: bool,
    /// The conversation's newest request.
    pub latest_request: Option<AiRequest>,
}

fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

/// `POST /api/ai/enhanced-chat` — ask the coach (seed 003).
#[utoipa::path(post, path = "/api/ai/enhanced-chat", tag = "ai", security(("bearer" = [])),
    request_body = EnhancedChat,
    responses(
        (status = 200, description = "Answered within `ai.inline_wait`; with `Accept: text/event-stream`, a stream of `request`, `delta` and `done` (or `error`) events", body = ChatReply),
        (status = 202, description = "Still on the queue", body = AiAccepted),
        (status = 401, body = ErrorBody), (status = 404, description = "The AI coach is off, or the conversation is not mine", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 502, description = "`ai_service_error`: retrying will not help", body = ErrorBody),
        (status = 503, description = "`ai_service_error`: retry later", body = ErrorBody)))]
pub async fn enhanced_chat(
    State(state): State<AppState>,
    me: AuthUser,
    headers: HeaderMap,
    ValidJson(req): ValidJson<EnhancedChat>,
) -> Result<Response, ApiError> {
    let stream = wants_stream(&headers);
    let ask = Ask {
        message: req.message,
        topic: req.topic.unwrap_or(Topic::General),
        context: req.context.unwrap_or(Value::Null),
        urgency: req.priority.unwrap_or(Urgency::Normal),
        conversation_id: req.conversation_id,
        stream,
    };
    let asked = service::ask(&state, &me, ask).await?;
    if stream {
        return Ok(streamed(state, me, asked).into_response());
    }
    answered(&state, &me, asked).await
}

/// The inline answer, or 202.
async fn answered(state: &AppState, me: &AuthUser, asked: Asked) -> Result<Response, ApiError> {
    let Asked {
        request,
        job_id,
        mut waiter,
    } = asked;
    let wait = state.config.ai.inline_wait.0;
    match service::settle(state, me, &mut waiter, request.id, wait).await? {
        Settled::Answered { request, answer } => Ok(Json(ChatReply {
            reply: answer.content.clone(),
            provider: answer.provider.clone().unwrap_or_default(),
            conversation_id: request.conversation_id.unwrap_or_default(),
            message: answer,
            request,
        })
        .into_response()),
        Settled::Planned { request, plan } => {
            Ok((StatusCode::CREATED, Json(PlanReply { plan, request })).into_response())
        }
        Settled::Pending(request) => Ok(pending(request, job_id)),
    }
}

fn pending(request: AiRequest, job_id: plaza_core::JobId) -> Response {
    let location = format!("/api/ai/requests/{}", request.id);
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(AiAccepted { request, job_id }),
    )
        .into_response()
}

/// The answer's pieces as server-sent events: `request` first, a `delta`
/// per piece, then `done` with the stored answer or `error` in the error
/// format.
fn streamed(
    state: AppState,
    me: AuthUser,
    asked: Asked,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let Asked {
        request, waiter, ..
    } = asked;
    let first = json_event("request", &json!({"request": request}));
    let id = request.id;
    let ai = &state.config.ai;
    let limit = ai.inline_wait.0.max(ai.timeout.0 * (ai.retries + 1)) + Duration::from_secs(60);
    let deadline = tokio::time::Instant::now() + limit;
    let rest = stream::unfold(Some((state, me, waiter)), move |held| async move {
        let (state, me, mut waiter) = held?;
        loop {
            let poll = deadline.min(tokio::time::Instant::now() + Duration::from_secs(1));
            let note = tokio::select! {
                note = waiter.next() => note,
                () = tokio::time::sleep_until(poll) => None,
            };
            if let Some(Note::Piece { text, .. }) = note {
                let one = vec![Ok(delta(&text))];
                return Some((stream::iter(one), Some((state, me, waiter))));
            }
            let r = match service::request(&state, &me, id).await {
                Ok(r) => r,
                Err(e) => {
                    let one = vec![Ok(error_event(&state, e.into()))];
                    return Some((stream::iter(one), None));
                }
            };
            let timed_out = tokio::time::Instant::now() >= deadline;
            if !r.status.finished() && !timed_out {
                continue;
            }
            // Pieces already here come before the end, in order.
            let mut tail: Vec<Result<Event, Infallible>> = Vec::new();
            while let Some(note) = waiter.try_next() {
                if let Note::Piece { text, .. } = note {
                    tail.push(Ok(delta(&text)));
                }
            }
            tail.push(Ok(match service::outcome(&state, &me, r).await {
                Ok(Settled::Answered { request, answer }) => {
                    json_event("done", &json!({"request": request, "message": answer}))
                }
                Ok(Settled::Planned { request, plan }) => {
                    json_event("done", &json!({"request": request, "plan": plan}))
                }
                Ok(Settled::Pending(request)) => {
                    json_event("pending", &json!({"request": request}))
                }
                Err(e) => error_event(&state, e.into()),
            }));
            return Some((stream::iter(tail), None));
        }
    })
    .flatten();
    Sse::new(stream::once(async move { Ok(first) }).chain(rest))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn delta(text: &str) -> Event {
    json_event("delta", &json!({"text": text}))
}

fn json_event(name: &str, data: &Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

/// An `error` event in the error format (as a socket's `error` frame).
fn error_event(state: &AppState, e: ApiError) -> Event {
    let data = crate::realtime::envelope::error_data(&e, state.clock.now());
    json_event("error", &data)
}

/// `POST /api/ai/plans` — a workout or meal plan from the coach, on the
/// `ai` queue (the model's when one is configured, else the offline
/// planner's).
#[utoipa::path(post, path = "/api/ai/plans", tag = "ai", security(("bearer" = [])),
    request_body = AskPlan,
    responses(
        (status = 201, description = "Made within `ai.inline_wait`", body = PlanReply),
        (status = 202, description = "Still on the queue", body = AiAccepted),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn ask_plan(
    State(state): State<AppState>,
    me: AuthUser,
    ValidJson(req): ValidJson<AskPlan>,
) -> Result<Response, ApiError> {
    let urgency = req.priority.unwrap_or(Urgency::Normal);
    let asked = service::ask_plan(&state, &me, req.kind, urgency, req.instructions).await?;
    answered(&state, &me, asked).await
}

/// `GET /api/ai/requests/{id}` — where my request stands.
#[utoipa::path(get, path = "/api/ai/requests/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = RequestBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_request(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<AiRequestId>,
) -> Result<Json<RequestBody>, ApiError> {
    let request = service::my_request(&state, &me, id).await?;
    Ok(Json(RequestBody { request }))
}

/// `GET /api/ai/chats` — my conversations, the latest first.
#[utoipa::path(get, path = "/api/ai/chats", tag = "ai", security(("bearer" = [])),
    params(ChatsQuery),
    responses((status = 200, body = ConversationList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_chats(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<ChatsQuery>,
) -> Result<Json<ConversationList>, ApiError> {
    let limit = u32::try_from(page_limit(query.limit, 20)?).unwrap_or(20);
    let offset = query.offset.unwrap_or(0);
    let items = service::conversations(&state, &me, query.topic, limit, offset).await?;
    Ok(Json(ConversationList { items }))
}

/// `GET /api/ai/chats/{id}` — one of my conversations with its messages.
#[utoipa::path(get, path = "/api/ai/chats/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = AiThread), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_chat(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ConversationId>,
) -> Result<Json<AiThread>, ApiError> {
    let t = service::conversation(&state, &me, id).await?;
    Ok(Json(AiThread {
        pending: t.latest.as_ref().is_some_and(|r| !r.status.finished()),
        conversation: t.conversation,
        messages: t.messages,
        latest_request: t.latest,
    }))
}

/// `DELETE /api/ai/chats/{id}` — forget one of my conversations.
#[utoipa::path(delete, path = "/api/ai/chats/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_chat(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<ConversationId>,
) -> Result<StatusCode, ApiError> {
    service::delete_conversation(&state, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// The window, 1–2160 hours back; default 24.
    hours: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageBody {
    pub hours: u32,
    pub items: Vec<UsageRow>,
    /// US dollars, over every row.
    pub cost_usd: f64,
}

/// `GET /api/admin/ai/usage` — AI requests, tokens and cost by model and
/// outcome (admins).
#[utoipa::path(get, path = "/api/admin/ai/usage", tag = "ai", security(("bearer" = [])),
    params(UsageQuery),
    responses((status = 200, body = UsageBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ai_usage(
    State(state): State<AppState>,
    admin: AdminUser,
    ValidQuery(query): ValidQuery<UsageQuery>,
) -> Result<Json<UsageBody>, ApiError> {
    let hours = query.hours.unwrap_or(24);
    let items = usage::usage(&state, admin, hours).await?;
    let cost_usd = items.iter().map(|r| r.cost_micros).sum::<i64>() as f64 / 1e6;
    Ok(Json(UsageBody {
        hours,
        items,
        cost_usd,
    }))
}
