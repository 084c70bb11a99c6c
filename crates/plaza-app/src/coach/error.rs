//! What the coach's use cases refuse; `http/error/map.rs` gives each its
//! code (seed 003's `AIServiceError` is `ai_service_error`).

use std::time::Duration;

use crate::fitness::FitnessError;

#[derive(Debug, thiserror::Error)]
pub enum CoachError {
    /// `features.ai_chat` is off.
    #[error("the AI coach is turned off (PLAZA_FEATURE_AI_CHAT)")]
    Off,
    /// Also for another user's.
    #[error("no such conversation")]
    ConversationNotFound,
    /// Also for another user's.
    #[error("no such request")]
    RequestNotFound,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The model could not answer: `retryable` when asking again later
    /// may help (it was down, overloaded or slow).
    #[error("the AI service could not answer: {reason}")]
    Ai {
        reason: String,
        retryable: bool,
        retry_after: Option<Duration>,
    },
    #[error(transparent)]
    Fitness(#[from] FitnessError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> CoachError {
    CoachError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl From<plaza_platform::ai::AiError> for CoachError {
    fn from(e: plaza_platform::ai::AiError) -> Self {
        use plaza_platform::ai::AiError;
        let retryable = e.retryable();
        let retry_after = match &e {
            AiError::Unavailable { retry_after, .. } => *retry_after,
            AiError::Failed(_) => None,
        };
        Self::Ai {
            reason: e.to_string(),
            retryable,
            retry_after,
        }
    }
}
