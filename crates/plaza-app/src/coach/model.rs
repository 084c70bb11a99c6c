//! The coach's records as the API shows them: conversations and their
//! messages, and requests with their outcome.

use plaza_core::{AiMessageId, AiRequestId, ConversationId, PlanId, Timestamp, UserId};
use plaza_platform::jobs::Priority;
use serde::Serialize;
use utoipa::ToSchema;

plaza_core::text_enum!(
    /// What a conversation is about (seed 003's topics).
    Topic {
        Workout => "workout",
        Nutrition => "nutrition",
        Progress => "progress",
        General => "general",
    }
);

plaza_core::text_enum!(
    /// How soon a request runs on the `ai` queue (seed 003's priorities).
    Urgency { High => "high", Normal => "normal", Low => "low" }
);

impl Urgency {
    pub fn priority(self) -> Priority {
        match self {
            Self::High => Priority::High,
            Self::Normal => Priority::Normal,
            Self::Low => Priority::Low,
        }
    }
}

plaza_core::text_enum!(
    /// What a request asks for.
    RequestKind { Chat => "chat", WorkoutPlan => "workout_plan", MealPlan => "meal_plan" }
);

plaza_core::text_enum!(
    /// Where a request is: waiting on the queue, running, answered, failed
    /// for good, or failed because the model was unavailable (asking again
    /// later may help).
    RequestStatus {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Failed => "failed",
        Unavailable => "unavailable",
    }
);

impl RequestStatus {
    pub fn finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Unavailable)
    }
}

plaza_core::text_enum!(
    /// Who wrote a message.
    Author { User => "user", Assistant => "assistant" }
);

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Conversation {
    #[schema(value_type = String, format = Uuid)]
    pub id: ConversationId,
    pub topic: Topic,
    /// The first question's start.
    pub title: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChatMessage {
    #[schema(value_type = String, format = Uuid)]
    pub id: AiMessageId,
    pub role: Author,
    pub content: String,
    /// The coach's answers: `offline` or the model that wrote it.
    pub provider: Option<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Millionths of a US dollar.
    pub cost_micros: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A request to the coach and how it went.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AiRequest {
    #[schema(value_type = String, format = Uuid)]
    pub id: AiRequestId,
    #[serde(skip)]
    pub user_id: UserId,
    pub kind: RequestKind,
    pub priority: Urgency,
    pub status: RequestStatus,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub conversation_id: Option<ConversationId>,
    #[serde(skip)]
    pub question_id: Option<AiMessageId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub answer_id: Option<AiMessageId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub plan_id: Option<PlanId>,
    #[serde(skip)]
    pub input: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
    /// When asking again may help (`unavailable`, if the model said).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub retry_at: Option<Timestamp>,
    /// `offline`, or the model that answered.
    pub provider: Option<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Millionths of a US dollar.
    pub cost_micros: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

/// One model and outcome's requests in a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageRow {
    /// `offline`, the model's name, or empty for requests not yet run.
    pub provider: String,
    pub status: String,
    pub requests: i64,
    pub users: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost_micros: i64,
}
