//! The job that answers a request on the `ai` queue, at the priority the
//! person asked for: a chat answer from the model (streamed to waiters
//! when asked) or from the offline coach, or a plan. It finishes the
//! request in one commit with what it made — the answer, the plan, the
//! usage — or with why it failed, and tells the person's sockets and
//! notifications; a request runs once however often its job does.

use plaza_core::{AiMessageId, AiRequestId};
use plaza_platform::ai::{self, Usage};
use plaza_platform::jobs::{JobKind, Priority};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use super::error::CoachError;
use super::live::{self, Note};
use super::model::{AiRequest, Author, ChatMessage, RequestKind, RequestStatus, Urgency};
use super::offline::{self, Facts};
use super::{plan, prompt, store};
use crate::fitness::records::PlanKind;
use crate::fitness::{analytics, planner, plans, service as fitness};
use crate::notifications::{self, Notice};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize)]
pub struct Answer {
    pub request_id: AiRequestId,
    pub urgency: Urgency,
    /// Pieces go to the waiters as the model writes them.
    #[serde(default)]
    pub stream: bool,
}

#[async_trait::async_trait]
impl JobKind for Answer {
    type Context = AppState;
    const KIND: &'static str = "ai.answer";
    const QUEUE: &'static str = "ai";
    const MAX_ATTEMPTS: u32 = 3;
    const BACKOFF: std::time::Duration = std::time::Duration::from_secs(2);

    fn priority(&self) -> Priority {
        self.urgency.priority()
    }

    fn unique_key(&self) -> Option<String> {
        Some(format!("ai.answer:{}", self.request_id))
    }

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        let request = {
            let mut conn = state.db.writer().acquire().await?;
            store::request(&mut conn, self.request_id).await?
        };
        let Some(request) = request.filter(|r| !r.status.finished()) else {
            return Ok(());
        };
        let now = state.clock.now();
        {
            let mut work = state.work_one().await?;
            store::start_request(&mut work, request.id, now).await?;
            work.commit().await?;
        }
        let waited = now.duration_since(request.created_at).as_secs_f64();
        metrics::histogram!("plaza_ai_queue_wait_seconds", "priority" => request.priority.as_str())
            .record(waited);
        let made = match request.kind {
            RequestKind::Chat => chat(state, &request, self.stream).await,
            RequestKind::WorkoutPlan => make_plan(state, &request, PlanKind::Workout).await,
            RequestKind::MealPlan => make_plan(state, &request, PlanKind::Meal).await,
        };
        finish(state, &request, made).await
    }
}

/// What a request made, before it is kept.
pub enum Made {
    Answer {
        text: String,
        spent: Spent,
    },
    Plan {
        name: String,
        body: serde_json::Value,
        spent: Spent,
    },
}

/// Who answered and what it cost.
pub struct Spent {
    pub provider: String,
    pub usage: Usage,
    pub cost_micros: i64,
}

impl Spent {
    fn offline() -> Self {
        Self {
            provider: "offline".into(),
            usage: Usage::default(),
            cost_micros: 0,
        }
    }

    fn of(c: &ai::Completion) -> Self {
        Self {
            provider: c.model.clone(),
            usage: c.usage,
            cost_micros: c.cost_micros,
        }
    }
}

async fn chat(state: &AppState, r: &AiRequest, stream: bool) -> Result<Made, CoachError> {
    let (Some(conversation_id), Some(question_id)) = (r.conversation_id, r.question_id) else {
        return Err(CoachError::RequestNotFound);
    };
    let (conversation, history) = {
        let mut conn = state.db.writer().acquire().await?;
        let conversation = store::conversation(&mut conn, r.user_id, conversation_id).await?;
        let limit = state.config.ai.history.saturating_add(1);
        (
            conversation,
            store::messages(&mut conn, conversation_id, limit).await?,
        )
    };
    let conversation = conversation.ok_or(CoachError::ConversationNotFound)?;
    let Some(at) = history.iter().position(|m| m.id == question_id) else {
        return Err(CoachError::RequestNotFound);
    };
    let question = history[at].content.clone();
    let earlier = &history[..at];
    let profile = fitness::profile_of(state, r.user_id).await?;
    let body = fitness::body(state, &profile).await?;
    let context = r.input.get("context").cloned().unwrap_or_default();
    let mut pieces = Pieces::start(state, r.id, stream);
    if prompt::medical(&question) {
        pieces.push(&format!("{}\n\n", prompt::ADVISORY));
    }
    let (text, spent) = match &state.ai {
        Some(client) => {
            let facts = prompt::profile_facts(&profile, body);
            let req = ai::Request {
                messages: prompt::chat(&facts, conversation.topic, earlier, &question, &context),
                schema: None,
            };
            let answer = if stream {
                client.stream(&req, &mut |piece| pieces.push(piece)).await
            } else {
                client.complete(&req).await
            }?;
            let spent = Spent::of(&answer);
            (answer.text, spent)
        }
        None => {
            let analytics = analytics::of(state, r.user_id).await?;
            let facts = Facts {
                profile: &profile,
                body,
                analytics: &analytics,
            };
            let text = offline::reply(conversation.topic, &question, &facts);
            for piece in offline::pieces(&text) {
                pieces.push(piece);
            }
            (text, Spent::offline())
        }
    };
    pieces.finish().await;
    Ok(Made::Answer {
        text: prompt::advised(&question, text),
        spent,
    })
}

async fn make_plan(state: &AppState, r: &AiRequest, kind: PlanKind) -> Result<Made, CoachError> {
    let Some(client) = &state.ai else {
        let (name, body) = plans::draft(state, r.user_id, kind).await?;
        return Ok(Made::Plan {
            name,
            body,
            spent: Spent::offline(),
        });
    };
    let profile = fitness::profile_of(state, r.user_id).await?;
    let body = fitness::body(state, &profile).await?;
    let facts = prompt::profile_facts(&profile, body);
    let targets = (kind == PlanKind::Meal)
        .then(|| serde_json::to_value(planner::targets(&profile, body)).unwrap_or_default());
    let instructions = r.input["instructions"].as_str().unwrap_or_default();
    let drafted = plan::ask(client, kind, &facts, targets.as_ref(), instructions).await?;
    Ok(Made::Plan {
        name: drafted.name,
        body: drafted.body,
        spent: Spent {
            provider: drafted.model,
            usage: drafted.usage,
            cost_micros: drafted.cost_micros,
        },
    })
}

/// Keeps what `r` made (or why it failed) in one commit, then tells the
/// person. Errors other than the model's are the job's: it runs again.
async fn finish(
    state: &AppState,
    r: &AiRequest,
    made: Result<Made, CoachError>,
) -> anyhow::Result<()> {
    let mut work = state.work().await?;
    let now = work.now();
    let mut outcome = store::Outcome {
        status: RequestStatus::Done,
        answer_id: None,
        plan_id: None,
        error: None,
        retry_at: None,
        provider: None,
        tokens_in: 0,
        tokens_out: 0,
        cost_micros: 0,
    };
    let spent_of = |s: &Spent, o: &mut store::Outcome| {
        o.provider = Some(s.provider.clone());
        o.tokens_in = s.usage.input;
        o.tokens_out = s.usage.output;
        o.cost_micros = s.cost_micros;
    };
    let told = match made {
        Ok(Made::Answer { text, spent }) => {
            let Some(conversation) = r.conversation_id else {
                anyhow::bail!("a chat request without its conversation");
            };
            let answer = ChatMessage {
                id: AiMessageId::new(),
                role: Author::Assistant,
                content: text,
                provider: Some(spent.provider.clone()),
                tokens_in: spent.usage.input,
                tokens_out: spent.usage.output,
                cost_micros: spent.cost_micros,
                created_at: now,
            };
            store::insert_message(&mut work, conversation, r.user_id, &answer).await?;
            store::touch_conversation(&mut work, conversation, now).await?;
            spent_of(&spent, &mut outcome);
            outcome.answer_id = Some(answer.id);
            let preview: String = answer.content.chars().take(200).collect();
            let notice = Notice {
                kind: "ai.answered".into(),
                title: Some("Your coach answered".into()),
                body: Some(preview),
                data: json!({"request_id": r.id, "conversation_id": conversation, "message_id": answer.id}),
            };
            notifications::send(&mut work, &[r.user_id], &notice).await?;
            (
                "ai.answer",
                json!({"request_id": r.id, "conversation_id": conversation, "message": answer}),
            )
        }
        Ok(Made::Plan { name, body, spent }) => {
            let kind = if r.kind == RequestKind::MealPlan {
                PlanKind::Meal
            } else {
                PlanKind::Workout
            };
            let plan =
                plans::adopt_in(&mut work, r.user_id, kind, name, &spent.provider, body).await?;
            spent_of(&spent, &mut outcome);
            outcome.plan_id = Some(plan.id);
            let notice = Notice {
                kind: "ai.plan_ready".into(),
                title: Some("Your plan is ready".into()),
                body: Some(plan.name.clone()),
                data: json!({"request_id": r.id, "plan_id": plan.id}),
            };
            notifications::send(&mut work, &[r.user_id], &notice).await?;
            ("ai.plan", json!({"request_id": r.id, "plan": plan}))
        }
        Err(CoachError::Ai {
            reason,
            retryable,
            retry_after,
        }) => {
            outcome.retry_at = retry_after.map(|after| now.saturating_add(after));
            tracing::warn!(request = %r.id, reason, retryable, "the AI request failed");
            outcome.status = if retryable {
                RequestStatus::Unavailable
            } else {
                RequestStatus::Failed
            };
            outcome.error = Some(reason.clone());
            (
                "ai.failed",
                json!({"request_id": r.id, "conversation_id": r.conversation_id, "error": reason, "retryable": retryable}),
            )
        }
        Err(e) => return Err(e.into()),
    };
    store::finish_request(&mut work, r.id, &outcome, now).await?;
    work.publish(live::TOPIC, Note::Done { r: r.id }.bytes());
    let user = r.user_id;
    let (kind, data) = told;
    work.after_commit(async move {
        if let Err(e) = crate::realtime::tell_users(state, &[user], kind, data).await {
            tracing::debug!(error = %e, "cannot tell sockets about an AI answer");
        }
    });
    work.commit().await?;
    Ok(())
}

/// Pieces of an answer on their way to the waiters, in order: the model's
/// callback cannot wait for the bus, so a task forwards them.
struct Pieces {
    tx: Option<mpsc::UnboundedSender<String>>,
    forwarder: Option<tokio::task::JoinHandle<()>>,
}

impl Pieces {
    fn start(state: &AppState, id: AiRequestId, stream: bool) -> Self {
        if !stream {
            return Self {
                tx: None,
                forwarder: None,
            };
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let state = state.clone();
        let forwarder = tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                live::tell(&state.bus, &Note::Piece { r: id, text }).await;
            }
        });
        Self {
            tx: Some(tx),
            forwarder: Some(forwarder),
        }
    }

    fn push(&self, piece: &str) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(piece.to_owned());
        }
    }

    /// Waits until every piece is on the bus.
    async fn finish(&mut self) {
        self.tx = None;
        if let Some(f) = self.forwarder.take() {
            let _ = f.await;
        }
    }
}
