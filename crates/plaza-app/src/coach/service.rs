//! The coach's use cases: asking (a chat question or a plan), waiting for
//! the answer within a bound, and my conversations and requests.

use std::time::Duration;

use plaza_core::{AiMessageId, AiRequestId, ConversationId, JobId};
use serde_json::{Value, json};

use super::answer::Answer;
use super::error::{CoachError, invalid};
use super::live::Waiter;
use super::model::{
    AiRequest, Author, ChatMessage, Conversation, RequestKind, RequestStatus, Topic, Urgency,
};
use super::store;
use crate::fitness::records::{Plan, PlanKind};
use crate::http::AuthUser;
use crate::state::AppState;

/// Longest question, in characters.
pub const MAX_MESSAGE: usize = 4000;
/// Largest context, as JSON bytes.
pub const MAX_CONTEXT: usize = 4096;

/// The AI routes answer only while `features.ai_chat` is on.
pub fn on(state: &AppState) -> Result<(), CoachError> {
    if state.config.features.ai_chat {
        Ok(())
    } else {
        Err(CoachError::Off)
    }
}

/// A question for the coach (seed 003's `POST /api/ai/enhanced-chat`).
#[derive(Debug)]
pub struct Ask {
    pub message: String,
    pub topic: Topic,
    pub context: Value,
    pub urgency: Urgency,
    /// Continue this conversation; a new one when unset.
    pub conversation_id: Option<ConversationId>,
    pub stream: bool,
}

/// A request on the queue, and the means to wait for it.
pub struct Asked {
    pub request: AiRequest,
    /// The `ai` queue's job that answers it.
    pub job_id: JobId,
    pub waiter: Waiter,
}

/// Stores my question in its conversation and queues its answer.
#[tracing::instrument(skip_all, fields(topic = %ask.topic, urgency = %ask.urgency))]
pub async fn ask(state: &AppState, me: &AuthUser, ask: Ask) -> Result<Asked, CoachError> {
    on(state)?;
    let message = ask.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > MAX_MESSAGE {
        return Err(invalid("message", format!("1 to {MAX_MESSAGE} characters")));
    }
    let context = checked_context(ask.context)?;
    let id = AiRequestId::new();
    // Waiting starts before the job can run, so no note is missed.
    let waiter = state.coach.wait_for(&state.bus, id).await;
    let mut work = state.work().await?;
    let now = work.now();
    let conversation = match ask.conversation_id {
        Some(c) => store::conversation(&mut work, me.user_id, c)
            .await?
            .ok_or(CoachError::ConversationNotFound)?,
        None => {
            let c = Conversation {
                id: ConversationId::new(),
                topic: ask.topic,
                title: message.chars().take(60).collect(),
                created_at: now,
                updated_at: now,
            };
            store::insert_conversation(&mut work, me.user_id, &c).await?;
            c
        }
    };
    store::touch_conversation(&mut work, conversation.id, now).await?;
    let question = ChatMessage {
        id: AiMessageId::new(),
        role: Author::User,
        content: message,
        provider: None,
        tokens_in: 0,
        tokens_out: 0,
        cost_micros: 0,
        created_at: now,
    };
    store::insert_message(&mut work, conversation.id, me.user_id, &question).await?;
    let request = new_request(
        id,
        me,
        RequestKind::Chat,
        ask.urgency,
        json!({"context": context}),
        now,
    );
    let request = AiRequest {
        conversation_id: Some(conversation.id),
        question_id: Some(question.id),
        ..request
    };
    store::insert_request(&mut work, &request).await?;
    let job = Answer {
        request_id: id,
        urgency: ask.urgency,
        stream: ask.stream,
    };
    let (job, _) = work.enqueue(&job).await?;
    work.commit().await?;
    Ok(Asked {
        request,
        job_id: job.id,
        waiter,
    })
}

/// A plan from the coach: the model's when one is configured, the offline
/// planner's otherwise, on the `ai` queue like a question.
pub async fn ask_plan(
    state: &AppState,
    me: &AuthUser,
    kind: PlanKind,
    urgency: Urgency,
    instructions: String,
) -> Result<Asked, CoachError> {
    on(state)?;
    let instructions = instructions.trim().to_owned();
    if instructions.chars().count() > MAX_MESSAGE {
        return Err(invalid(
            "instructions",
            format!("at most {MAX_MESSAGE} characters"),
        ));
    }
    let id = AiRequestId::new();
    let waiter = state.coach.wait_for(&state.bus, id).await;
    let kind = match kind {
        PlanKind::Workout => RequestKind::WorkoutPlan,
        PlanKind::Meal => RequestKind::MealPlan,
    };
    let mut work = state.work().await?;
    let now = work.now();
    let input = json!({"instructions": instructions});
    let request = new_request(id, me, kind, urgency, input, now);
    store::insert_request(&mut work, &request).await?;
    let job = Answer {
        request_id: id,
        urgency,
        stream: false,
    };
    let (job, _) = work.enqueue(&job).await?;
    work.commit().await?;
    Ok(Asked {
        request,
        job_id: job.id,
        waiter,
    })
}

fn new_request(
    id: AiRequestId,
    me: &AuthUser,
    kind: RequestKind,
    urgency: Urgency,
    input: Value,
    now: plaza_core::Timestamp,
) -> AiRequest {
    AiRequest {
        id,
        user_id: me.user_id,
        kind,
        priority: urgency,
        status: RequestStatus::Queued,
        conversation_id: None,
        question_id: None,
        answer_id: None,
        plan_id: None,
        input,
        error: None,
        retry_at: None,
        provider: None,
        tokens_in: 0,
        tokens_out: 0,
        cost_micros: 0,
        created_at: now,
        started_at: None,
        finished_at: None,
    }
}

/// The app's context: an object (or nothing) of at most 4 KiB.
fn checked_context(context: Value) -> Result<Value, CoachError> {
    match &context {
        Value::Null => Ok(json!({})),
        Value::Object(_) if context.to_string().len() <= MAX_CONTEXT => Ok(context),
        Value::Object(_) => Err(invalid(
            "context",
            format!("at most {MAX_CONTEXT} bytes of JSON"),
        )),
        _ => Err(invalid("context", "must be an object")),
    }
}

/// How a request stands after waiting: finished (with what it made), or
/// still on the queue when the wait ran out.
pub enum Settled {
    Answered {
        request: AiRequest,
        answer: ChatMessage,
    },
    Planned {
        request: AiRequest,
        plan: Plan,
    },
    Pending(AiRequest),
}

/// Waits up to `wait` for the request to finish; a failed one is the
/// model's error (502, or 503 when asking again may help).
pub async fn settle(
    state: &AppState,
    me: &AuthUser,
    waiter: &mut Waiter,
    id: AiRequestId,
    wait: Duration,
) -> Result<Settled, CoachError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let r = request(state, me, id).await?;
        if r.status.finished() || tokio::time::Instant::now() >= deadline {
            return outcome(state, me, r).await;
        }
        // A note says it changed; a second's poll covers a lost one.
        let poll = deadline.min(tokio::time::Instant::now() + Duration::from_secs(1));
        tokio::select! {
            note = waiter.next() => {
                if note.is_none() {
                    tokio::time::sleep_until(poll).await;
                }
            }
            () = tokio::time::sleep_until(poll) => {}
        }
    }
}

/// What a request made, or its failure as the coach's error.
pub async fn outcome(state: &AppState, me: &AuthUser, r: AiRequest) -> Result<Settled, CoachError> {
    match r.status {
        RequestStatus::Done => {
            if let Some(plan_id) = r.plan_id {
                let plan = crate::fitness::plans::plan(state, me, plan_id).await?;
                return Ok(Settled::Planned { request: r, plan });
            }
            let mut conn = state.db.fresh().acquire().await?;
            let answer = match r.answer_id {
                Some(a) => store::message(&mut conn, a).await?,
                None => None,
            };
            match answer {
                Some(answer) => Ok(Settled::Answered { request: r, answer }),
                None => Ok(Settled::Pending(r)),
            }
        }
        RequestStatus::Failed | RequestStatus::Unavailable => Err(CoachError::Ai {
            retry_after: r.retry_at.map(|at| at.duration_since(state.clock.now())),
            reason: r.error.unwrap_or_else(|| "the model did not answer".into()),
            retryable: r.status == RequestStatus::Unavailable,
        }),
        RequestStatus::Queued | RequestStatus::Running => Ok(Settled::Pending(r)),
    }
}

/// My request `id`, while the coach is on.
pub async fn my_request(
    state: &AppState,
    me: &AuthUser,
    id: AiRequestId,
) -> Result<AiRequest, CoachError> {
    on(state)?;
    request(state, me, id).await
}

/// My request `id`.
pub async fn request(
    state: &AppState,
    me: &AuthUser,
    id: AiRequestId,
) -> Result<AiRequest, CoachError> {
    let mut conn = state.db.fresh().acquire().await?;
    store::request(&mut conn, id)
        .await?
        .filter(|r| r.user_id == me.user_id)
        .ok_or(CoachError::RequestNotFound)
}

/// A conversation with its messages and where its last request stands.
pub struct Thread {
    pub conversation: Conversation,
    pub messages: Vec<ChatMessage>,
    pub latest: Option<AiRequest>,
}

pub async fn conversations(
    state: &AppState,
    me: &AuthUser,
    topic: Option<Topic>,
    limit: u32,
    offset: u32,
) -> Result<Vec<Conversation>, CoachError> {
    on(state)?;
    let mut conn = state.db.fresh().acquire().await?;
    Ok(store::conversations(&mut conn, me.user_id, topic, limit, offset).await?)
}

/// Messages a thread shows at most.
const THREAD_MESSAGES: u32 = 500;

pub async fn conversation(
    state: &AppState,
    me: &AuthUser,
    id: ConversationId,
) -> Result<Thread, CoachError> {
    on(state)?;
    let mut conn = state.db.fresh().acquire().await?;
    let conversation = store::conversation(&mut conn, me.user_id, id)
        .await?
        .ok_or(CoachError::ConversationNotFound)?;
    let messages = store::messages(&mut conn, id, THREAD_MESSAGES).await?;
    let latest = store::latest_request(&mut conn, id).await?;
    Ok(Thread {
        conversation,
        messages,
        latest,
    })
}

pub async fn delete_conversation(
    state: &AppState,
    me: &AuthUser,
    id: ConversationId,
) -> Result<(), CoachError> {
    on(state)?;
    let mut work = state.work_one().await?;
    if !store::delete_conversation(&mut work, me.user_id, id).await? {
        return Err(CoachError::ConversationNotFound);
    }
    work.commit().await?;
    Ok(())
}
