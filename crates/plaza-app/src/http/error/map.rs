//! The error table's other half: every slice's error, as HTTP. Services
//! return their slice's error; transports turn it into an `ApiError` here,
//! with `?`.

use super::{ApiError, codes};
use crate::auth::service::AuthError;
use crate::chat::service::ChatError;
use crate::http::ratelimit::too_many_after;
use crate::jobs::service::JobsError;
use crate::users::CreateUserError;

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => {
                tracing::error!(
                    "database pool exhausted: no connection within the acquire timeout"
                );
                Self::new(
                    codes::SERVER_DATABASE_BUSY,
                    "the database is busy; try again shortly",
                )
            }
            e => Self::internal(e),
        }
    }
}

/// A slice error that only wraps a database error.
fn db<E: std::error::Error + Send + Sync + 'static>(e: E) -> ApiError {
    match std::error::Error::source(&e).and_then(|s| s.downcast_ref::<sqlx::Error>()) {
        Some(sqlx::Error::PoolTimedOut) => sqlx::Error::PoolTimedOut.into(),
        _ => ApiError::internal(e),
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::internal(e)
    }
}

impl From<JobsError> for ApiError {
    fn from(e: JobsError) -> Self {
        let code = match &e {
            JobsError::NotFound => codes::JOBS_NOT_FOUND,
            JobsError::Running => codes::JOBS_RUNNING,
            JobsError::WrongState { .. } => codes::JOBS_WRONG_STATE,
            JobsError::Invalid { field, reason } => return ApiError::invalid_field(field, reason),
            JobsError::Db(_) => return db(e),
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match e {
            ChatError::NotFound => ApiError::new(codes::CHAT_NOT_FOUND, e.to_string()),
            ChatError::MemberNotFound => ApiError::new(codes::CHAT_MEMBER_NOT_FOUND, e.to_string()),
            ChatError::MessageNotFound => {
                ApiError::new(codes::CHAT_MESSAGE_NOT_FOUND, e.to_string())
            }
            ChatError::Forbidden(why) => ApiError::new(codes::CHAT_FORBIDDEN, why),
            ChatError::Invalid { field, reason } => ApiError::invalid_field(field, reason),
            ChatError::Db(e) => e.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidCredentials
            | AuthError::InvalidRefresh
            | AuthError::RefreshReused => ApiError::unauthenticated(e.to_string()),
            AuthError::Locked { retry_after } => too_many_after(e.to_string(), retry_after),
            AuthError::Banned => ApiError::forbidden(e.to_string()),
            AuthError::Create(e) => e.into(),
            AuthError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<CreateUserError> for ApiError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::EmailTaken => ApiError::conflict(e.to_string())
                .with_details(serde_json::json!({"fields": {"email": "taken"}})),
            CreateUserError::UsernameTaken => ApiError::conflict(e.to_string())
                .with_details(serde_json::json!({"fields": {"username": "taken"}})),
            CreateUserError::Hash(e) => ApiError::internal(e),
            CreateUserError::Db(e) => ApiError::internal(e),
        }
    }
}
