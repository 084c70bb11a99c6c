//! FitSync over GraphQL (seed 003 beside seed 004's API): my fitness
//! profile, plans, workouts and analytics, and the AI coach — the same
//! service calls as `/api/fitness/*`, `/api/analytics/user` and
//! `/api/ai/*`. Plans' weeks and the analytics are JSON, as REST gives
//! them.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use plaza_core::{ConversationId, PlanId};

use super::context::{limit, signed_in};
use crate::coach::model::{Topic, Urgency};
use crate::coach::service::{self as coach, Ask, Settled};
use crate::fitness::logs::{self, NewWorkout};
use crate::fitness::records::{PlanKind, WorkoutKind};
use crate::fitness::service::{self, ProfileEdit};
use crate::fitness::{analytics, plans};
use crate::http::{ApiError, LimitClass};

fn parsed<T: std::str::FromStr>(field: &'static str, value: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::invalid_field(field, format!("`{value}` is not one")))
}

fn list<T: std::str::FromStr>(
    field: &'static str,
    items: Option<Vec<String>>,
) -> Result<Option<Vec<T>>, ApiError> {
    items
        .map(|items| items.iter().map(|i| parsed(field, i)).collect())
        .transpose()
}

fn json<T: serde::Serialize>(v: &T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(v).unwrap_or_default())
}

/// A workout or meal plan; `week` is its `WorkoutWeek` or `MealWeek`.
#[derive(SimpleObject)]
pub struct FitnessPlan {
    pub id: ID,
    /// `workout` or `meal`.
    pub kind: String,
    pub name: String,
    /// `offline`, `manual`, or the model that wrote it.
    pub provider: String,
    pub week: Json<serde_json::Value>,
    pub created_at: String,
}

impl From<crate::fitness::records::Plan> for FitnessPlan {
    fn from(p: crate::fitness::records::Plan) -> Self {
        Self {
            id: ID(p.id.to_string()),
            kind: p.kind.as_str().to_owned(),
            name: p.name,
            provider: p.provider,
            week: Json(p.body),
            created_at: p.created_at.to_string(),
        }
    }
}

#[derive(SimpleObject)]
pub struct LoggedWorkout {
    pub id: ID,
    pub kind: String,
    pub duration_min: i64,
    pub effort: Option<i64>,
    pub calories: i64,
    pub performed_at: String,
}

impl From<crate::fitness::records::Workout> for LoggedWorkout {
    fn from(w: crate::fitness::records::Workout) -> Self {
        Self {
            id: ID(w.id.to_string()),
            kind: w.kind.as_str().to_owned(),
            duration_min: w.duration_min,
            effort: w.effort,
            calories: w.calories,
            performed_at: w.performed_at.to_string(),
        }
    }
}

/// The coach's answer to `askCoach`: the reply when it came within the
/// inline wait, else `status` says where the request is.
#[derive(SimpleObject)]
pub struct CoachReply {
    pub request_id: ID,
    pub conversation_id: Option<ID>,
    /// `queued`, `running`, `done`.
    pub status: String,
    pub reply: Option<String>,
    pub provider: Option<String>,
}

#[derive(InputObject, Default)]
pub struct FitnessProfileInput {
    pub level: Option<String>,
    pub goals: Option<Vec<String>>,
    pub equipment: Option<Vec<String>>,
    pub days_per_week: Option<i64>,
    pub minutes_per_session: Option<i64>,
    pub height_mm: Option<i64>,
    pub limitations: Option<String>,
    /// `"18:00"` local for workout reminders.
    pub reminder_time: Option<String>,
}

fn plan_id(id: &ID) -> Result<PlanId, ApiError> {
    id.parse()
        .map_err(|_| crate::fitness::FitnessError::PlanNotFound.into())
}

#[derive(Default)]
pub struct FitnessQuery;

#[Object]
impl FitnessQuery {
    /// My fitness profile (the starting one until I save one).
    async fn fitness_profile(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        let (state, me) = signed_in(ctx)?;
        Ok(json(&service::profile(state, &me).await?))
    }

    /// My plans, newest first; of one kind (`workout`, `meal`).
    async fn fitness_plans(
        &self,
        ctx: &Context<'_>,
        kind: Option<String>,
    ) -> Result<Vec<FitnessPlan>> {
        let (state, me) = signed_in(ctx)?;
        let kind = kind.map(|k| parsed::<PlanKind>("kind", &k)).transpose()?;
        let found = plans::plans(state, &me, kind).await?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    async fn fitness_plan(&self, ctx: &Context<'_>, id: ID) -> Result<FitnessPlan> {
        let (state, me) = signed_in(ctx)?;
        let plan = plans::plan(state, &me, plan_id(&id)?).await?;
        Ok(plan.into())
    }

    /// My workouts, newest first.
    async fn workouts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        offset: Option<i32>,
    ) -> Result<Vec<LoggedWorkout>> {
        let (state, me) = signed_in(ctx)?;
        let limit = super::page::first(first, 20)?;
        let offset = i64::from(offset.unwrap_or(0).max(0));
        let found = logs::workouts(state, &me, limit, offset).await?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    /// Seed 003's `GET /api/analytics/user`, same shape.
    async fn user_analytics(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        let (state, me) = signed_in(ctx)?;
        Ok(json(&analytics::user(state, &me).await?))
    }

    /// My conversations with the coach, the latest first.
    async fn coach_conversations(
        &self,
        ctx: &Context<'_>,
        topic: Option<String>,
    ) -> Result<Json<serde_json::Value>> {
        let (state, me) = signed_in(ctx)?;
        let topic = topic.map(|t| parsed::<Topic>("topic", &t)).transpose()?;
        let found = coach::conversations(state, &me, topic, 100, 0).await?;
        Ok(json(&found))
    }

    /// One conversation with its messages.
    async fn coach_conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Json<serde_json::Value>> {
        let (state, me) = signed_in(ctx)?;
        let id: ConversationId = id
            .parse()
            .map_err(|_| ApiError::from(crate::coach::CoachError::ConversationNotFound))?;
        let t = coach::conversation(state, &me, id).await?;
        Ok(Json(serde_json::json!({
            "conversation": t.conversation, "messages": t.messages, "latest_request": t.latest,
        })))
    }
}

#[derive(Default)]
pub struct FitnessMutation;

#[Object]
impl FitnessMutation {
    /// Changes my fitness profile: only the fields given.
    async fn update_fitness_profile(
        &self,
        ctx: &Context<'_>,
        input: FitnessProfileInput,
    ) -> Result<Json<serde_json::Value>> {
        let (state, me) = signed_in(ctx)?;
        let edit = ProfileEdit {
            level: input.level.map(|l| parsed("level", &l)).transpose()?,
            goals: list("goals", input.goals)?,
            equipment: list("equipment", input.equipment)?,
            days_per_week: input.days_per_week,
            minutes_per_session: input.minutes_per_session,
            height_mm: input.height_mm.map(Some),
            limitations: input.limitations,
            reminder_time: input.reminder_time.map(Some),
            ..ProfileEdit::default()
        };
        Ok(json(&service::save_profile(state, &me, edit).await?))
    }

    /// A plan from the offline planner, kept.
    async fn generate_plan(&self, ctx: &Context<'_>, kind: String) -> Result<FitnessPlan> {
        let (state, me) = signed_in(ctx)?;
        let kind = parsed::<PlanKind>("kind", &kind)?;
        Ok(plans::generate(state, &me, kind).await?.into())
    }

    /// Logs a workout; its calories are estimated.
    async fn log_workout(
        &self,
        ctx: &Context<'_>,
        kind: String,
        duration_min: i64,
        effort: Option<i64>,
    ) -> Result<LoggedWorkout> {
        let (state, me) = signed_in(ctx)?;
        let new = NewWorkout {
            kind: parsed::<WorkoutKind>("kind", &kind)?,
            plan_id: None,
            performed_at: None,
            duration_min,
            effort,
            notes: String::new(),
            sets: Vec::new(),
        };
        Ok(logs::log_workout(state, &me, new).await?.into())
    }

    /// Seed 003's enhanced chat: the answer when it comes within the inline
    /// wait, else the request's status (the answer follows as the
    /// `ai.answer` socket frame and a notification). Under the `ai` limit.
    async fn ask_coach(
        &self,
        ctx: &Context<'_>,
        message: String,
        topic: Option<String>,
        context: Option<Json<serde_json::Value>>,
        priority: Option<String>,
        conversation_id: Option<ID>,
    ) -> Result<CoachReply> {
        let (state, me) = signed_in(ctx)?;
        limit(ctx, LimitClass::Ai).await?;
        let conversation_id = conversation_id
            .map(|c| c.parse::<ConversationId>())
            .transpose()
            .map_err(|_| ApiError::from(crate::coach::CoachError::ConversationNotFound))?;
        let ask = Ask {
            message,
            topic: topic
                .map(|t| parsed("topic", &t))
                .transpose()?
                .unwrap_or(Topic::General),
            context: context.map(|c| c.0).unwrap_or_default(),
            urgency: priority
                .map(|p| parsed("priority", &p))
                .transpose()?
                .unwrap_or(Urgency::Normal),
            conversation_id,
            stream: false,
        };
        let mut asked = coach::ask(state, &me, ask).await?;
        let wait = state.config.ai.inline_wait.0;
        let settled = coach::settle(state, &me, &mut asked.waiter, asked.request.id, wait).await?;
        let (request, answer) = match settled {
            Settled::Answered { request, answer } => (request, Some(answer)),
            Settled::Planned { request, .. } | Settled::Pending(request) => (request, None),
        };
        Ok(CoachReply {
            request_id: ID(request.id.to_string()),
            conversation_id: request.conversation_id.map(|c| ID(c.to_string())),
            status: request.status.as_str().to_owned(),
            provider: answer.as_ref().and_then(|a| a.provider.clone()),
            reply: answer.map(|a| a.content),
        })
    }
}
