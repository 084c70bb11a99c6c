//! The error table's other half: every slice's error, as HTTP. Services
//! return their slice's error; transports turn it into an `ApiError` here,
//! with `?`.

use std::fmt::Display;

use super::{ApiError, Code, codes};
use crate::auth::error::AuthError;
use crate::chat::error::ChatError;
use crate::coach::error::CoachError;
use crate::files::error::FilesError;
use crate::fitness::error::FitnessError;
use crate::health::error::NotReady;
use crate::http::ratelimit::{refusal, too_many_after};
use crate::jobs::error::JobsError;
use crate::meditation::error::MeditationError;
use crate::notifications::error::NotificationsError;
use crate::payments::error::{LedgerError, PaymentsError, WebhookError};
use crate::profiles::error::ProfilesError;
use crate::projects::error::ProjectsError;
use crate::realtime::error::StatusError;
use crate::users::error::CreateUserError;

/// `code` with the error's own words.
fn coded(code: &'static Code, e: &impl Display) -> ApiError {
    ApiError::new(code, e.to_string())
}

/// A taken email or username: 409 naming the field.
fn taken(code: &'static Code, e: &impl Display, field: &str) -> ApiError {
    coded(code, e).with_details(serde_json::json!({"fields": {field: "taken"}}))
}

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
            e if is_disk_full(&e) => {
                tracing::error!(error = %e, "the database's disk is full");
                Self::new(
                    codes::SERVER_STORAGE_FULL,
                    "the server's storage is full; nothing was written",
                )
            }
            e => Self::internal(e),
        }
    }
}

/// SQLite's `SQLITE_FULL` (13), PostgreSQL's
/// `disk_full` (53100), or the OS saying no space is left.
fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code()
                .is_some_and(|code| code == "13" || code == "53100")
                || db.message().contains("database or disk is full")
        }
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
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
            ChatError::NotJoined => ApiError::new(codes::CHAT_NOT_JOINED, e.to_string()),
            ChatError::Muted => ApiError::new(codes::CHAT_MUTED, e.to_string()),
            ChatError::Invalid { field, reason } => ApiError::invalid_field(field, reason),
            ChatError::Db(e) => e.into(),
        }
    }
}

impl From<CreateUserError> for ApiError {
    fn from(e: CreateUserError) -> Self {
        match &e {
            CreateUserError::EmailTaken => taken(codes::USERS_EMAIL_TAKEN, &e, "email"),
            CreateUserError::UsernameTaken => taken(codes::USERS_USERNAME_TAKEN, &e, "username"),
            CreateUserError::Hash(_) | CreateUserError::Db(_) => ApiError::internal(e),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        use AuthError as E;
        let message = e.to_string();
        let code = match e {
            E::Throttled { decision, rate } => return refusal("auth_account", &decision, rate),
            E::Locked { retry_after } => {
                return too_many_after(codes::AUTH_LOCKED, message, retry_after);
            }
            E::EmailTaken { field } => return taken(codes::USERS_EMAIL_TAKEN, &message, field),
            E::Invalid { field, reason } => return ApiError::invalid_field(field, reason),
            E::Create(e) => return e.into(),
            E::Db(e) => return e.into(),
            E::Internal(e) => return ApiError::internal(e),
            E::InvalidCredentials => codes::AUTH_INVALID_CREDENTIALS,
            E::Banned => codes::AUTH_BANNED,
            E::InvalidRefresh => codes::AUTH_INVALID_REFRESH,
            E::RefreshReused => codes::AUTH_REFRESH_REUSED,
            E::SessionNotFound => codes::AUTH_SESSION_NOT_FOUND,
            E::UserNotFound => codes::USERS_NOT_FOUND,
            E::OwnAccount(_) => codes::AUTH_OWN_ACCOUNT,
            E::MfaAlreadyOn(_) => codes::AUTH_MFA_ALREADY_ON,
            E::MfaNoSetup => codes::AUTH_MFA_NO_SETUP,
            E::MfaOff => codes::AUTH_MFA_OFF,
            E::EmailUnverified => codes::AUTH_EMAIL_UNVERIFIED,
            E::ChallengeInvalid => codes::AUTH_CHALLENGE_INVALID,
            E::WrongCode { .. } => codes::AUTH_WRONG_CODE,
            E::AlreadyVerified => codes::AUTH_ALREADY_VERIFIED,
            E::OAuthOff => codes::AUTH_OAUTH_OFF,
            E::NoProvider(_) => codes::AUTH_OAUTH_NO_PROVIDER,
            E::ProviderUnavailable(_) => codes::AUTH_OAUTH_UNAVAILABLE,
            E::Declined(_) => codes::AUTH_OAUTH_DECLINED,
            E::OtherBrowser => codes::AUTH_OAUTH_OTHER_BROWSER,
            E::OAuthStateInvalid => codes::AUTH_OAUTH_STATE_INVALID,
            E::CodeRefused => codes::AUTH_OAUTH_CODE_REFUSED,
            E::EmailHeld => codes::AUTH_OAUTH_EMAIL_HELD,
        };
        ApiError::new(code, message)
    }
}

impl From<FilesError> for ApiError {
    fn from(e: FilesError) -> Self {
        use FilesError as E;
        match e {
            E::NotFound => coded(codes::FILES_NOT_FOUND, &e),
            E::NoSuchOwner => ApiError::new(codes::USERS_NOT_FOUND, "no such user"),
            E::UploadsOff => coded(codes::FILES_UPLOADS_OFF, &e),
            E::NotAPicture(_) | E::NotMultipart => ApiError::unsupported_media_type(e.to_string()),
            E::BadPicture(why) => ApiError::invalid_field("file", why),
            E::NoSuchSize => ApiError::invalid_field("size", "one of 256, 64"),
            E::TooLarge(max) => ApiError::payload_too_large(max as u64),
            E::NoFilePart => ApiError::invalid_field("file", "missing: add a `file` part"),
            E::EmptyFile => ApiError::invalid_field("file", "the file is empty"),
            E::Unreadable(why) => ApiError::bad_request(why),
            E::Storage(why) if why.contains("No space left") || why.contains("os error 28") => {
                coded(
                    codes::SERVER_STORAGE_FULL,
                    &"the file store is full; nothing was stored",
                )
            }
            E::Storage(_) => coded(codes::FILES_STORAGE_UNAVAILABLE, &e),
            E::ShuttingDown => coded(codes::SERVER_SHUTTING_DOWN, &e),
            E::Db(e) => e.into(),
        }
    }
}

impl From<ProfilesError> for ApiError {
    fn from(e: ProfilesError) -> Self {
        use ProfilesError as E;
        match e {
            E::NotFound => coded(codes::USERS_NOT_FOUND, &e),
            E::Forbidden(why) => ApiError::new(codes::PROFILES_FORBIDDEN, why),
            E::Invalid { field, reason } => ApiError::invalid_field(field, reason),
            E::Create(e) => e.into(),
            E::Auth(e) => e.into(),
            E::Files(e) => e.into(),
            E::Db(e) => e.into(),
        }
    }
}

impl From<NotificationsError> for ApiError {
    fn from(e: NotificationsError) -> Self {
        use NotificationsError as E;
        match e {
            E::NotFound => coded(codes::NOTIFICATIONS_NOT_FOUND, &e),
            E::TemplateNotFound => coded(codes::NOTIFICATIONS_TEMPLATE_NOT_FOUND, &e),
            E::TemplateTaken => coded(codes::NOTIFICATIONS_TEMPLATE_TAKEN, &e),
            E::Invalid { field, reason } => ApiError::invalid_field(&field, reason),
            E::Db(e) => e.into(),
        }
    }
}

impl From<StatusError> for ApiError {
    fn from(e: StatusError) -> Self {
        match e {
            StatusError::Ids(why) => ApiError::invalid_field("ids", why),
            StatusError::Chat(e) => e.into(),
            StatusError::Db(e) => e.into(),
        }
    }
}

impl From<MeditationError> for ApiError {
    fn from(e: MeditationError) -> Self {
        use MeditationError as E;
        let message = e.to_string();
        let (code, details) = match e {
            E::Invalid { field, reason } => return ApiError::invalid_field(field, reason),
            E::Db(e) => return e.into(),
            E::Internal(e) => return ApiError::internal(e),
            E::SessionNotFound => (codes::MEDITATION_SESSION_NOT_FOUND, None),
            E::NoneActive => (codes::MEDITATION_NONE_ACTIVE, None),
            E::Ended(session) => (
                codes::MEDITATION_SESSION_ENDED,
                session.map(|s| serde_json::json!({"session": s})),
            ),
            E::AlreadyActive(session) => (
                codes::MEDITATION_SESSION_ACTIVE,
                session.map(|s| serde_json::json!({"session": s})),
            ),
            E::PlatformForAdmins => (codes::MEDITATION_PLATFORM_FOR_ADMINS, None),
            E::RoomNotFound => (codes::MEDITATION_ROOM_NOT_FOUND, None),
            E::RoomClosed => (codes::MEDITATION_ROOM_CLOSED, None),
            E::NotHost(_) => (codes::MEDITATION_NOT_HOST, None),
            E::NotInRoom => (codes::MEDITATION_NOT_IN_ROOM, None),
            E::NoRound(_) => (codes::MEDITATION_NO_ROUND, None),
            E::RoundRunning(round) => (
                codes::MEDITATION_ROUND_RUNNING,
                Some(serde_json::json!({"session": round})),
            ),
            E::RoomFull { max } => (
                codes::MEDITATION_ROOM_FULL,
                Some(serde_json::json!({"max_participants": max})),
            ),
        };
        let error = ApiError::new(code, message);
        match details {
            Some(details) => error.with_details(details),
            None => error,
        }
    }
}

/// An entry the ledger refuses is the caller's bug, not the user's input
/// (use cases check amounts before they build one): a 500 whose cause is
/// logged, never a half-moved sum.
impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Db(e) => e.into(),
            e => ApiError::internal(e),
        }
    }
}

impl From<FitnessError> for ApiError {
    fn from(e: FitnessError) -> Self {
        match e {
            FitnessError::Invalid { field, reason } => ApiError::invalid_field(field, reason),
            FitnessError::Db(e) => e.into(),
            e @ FitnessError::PlanNotFound => coded(codes::FITNESS_PLAN_NOT_FOUND, &e),
        }
    }
}

impl From<CoachError> for ApiError {
    fn from(e: CoachError) -> Self {
        match e {
            CoachError::Invalid { field, reason } => ApiError::invalid_field(field, reason),
            CoachError::Fitness(e) => e.into(),
            CoachError::Db(e) => e.into(),
            e @ CoachError::Off => coded(codes::AI_OFF, &e),
            e @ CoachError::ConversationNotFound => coded(codes::AI_CONVERSATION_NOT_FOUND, &e),
            e @ CoachError::RequestNotFound => coded(codes::AI_REQUEST_NOT_FOUND, &e),
            CoachError::Ai {
                reason,
                retryable,
                retry_after,
            } => {
                // The cause is logged and kept on the request, not sent.
                tracing::warn!(reason, retryable, "the AI coach could not answer");
                let mut details = serde_json::json!({"retryable": retryable});
                let after = retry_after.map(|d| crate::http::ratelimit::seconds(d).max(1));
                if let Some(after) = after {
                    details["retry_after_seconds"] = after.into();
                }
                let error = if retryable {
                    ApiError::new(
                        codes::AI_UNAVAILABLE,
                        "the AI coach is unavailable right now; try again shortly",
                    )
                } else {
                    ApiError::new(
                        codes::AI_FAILED,
                        "the AI coach could not answer this request",
                    )
                };
                match after {
                    Some(after) => error.with_header(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from(after),
                    ),
                    None => error,
                }
                .with_details(details)
            }
        }
    }
}

impl From<PaymentsError> for ApiError {
    fn from(e: PaymentsError) -> Self {
        use PaymentsError as E;
        let message = e.to_string();
        let code = match e {
            E::Invalid { field, reason } => return ApiError::invalid_field(field, reason),
            E::Db(e) => return e.into(),
            E::Ledger(e) => return e.into(),
            E::Webhook(e) => return e.into(),
            E::NotFound => codes::PAYMENTS_NOT_FOUND,
            E::NoEscrow => codes::PAYMENTS_ESCROW_NOT_FOUND,
            E::ProjectNotFound => codes::PROJECTS_NOT_FOUND,
            E::NoDeal(_) => codes::PAYMENTS_NO_DEAL,
            E::Forbidden(_) => codes::PAYMENTS_FORBIDDEN,
            E::ProviderOff(_) => codes::PAYMENTS_PROVIDER_OFF,
            E::Provider(_) => codes::PAYMENTS_PROVIDER_FAILED,
            E::WrongStatus(..) => codes::PAYMENTS_WRONG_STATUS,
            E::TooMuch { .. } => codes::PAYMENTS_TOO_MUCH,
            E::InsufficientFunds { .. } => codes::PAYMENTS_INSUFFICIENT_FUNDS,
            E::KeyReused => codes::PAYMENTS_KEY_REUSED,
            E::KeyInProgress => codes::PAYMENTS_KEY_IN_PROGRESS,
            E::Changed => codes::PAYMENTS_CHANGED,
        };
        ApiError::new(code, message)
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        coded(codes::PAYMENTS_WEBHOOK_REFUSED, &e)
    }
}

impl From<ProjectsError> for ApiError {
    fn from(e: ProjectsError) -> Self {
        use ProjectsError as E;
        let message = e.to_string();
        let (code, details) = match e {
            E::Invalid { field, reason } => return ApiError::invalid_field(field, reason),
            E::Unclear(why) => return ApiError::validation(why),
            E::Db(e) => return e.into(),
            E::Internal(e) => return ApiError::internal(e),
            E::Blocked(_) => (codes::PROJECTS_BLOCKED, None),
            E::NotFound => (codes::PROJECTS_NOT_FOUND, None),
            E::ResponseNotFound => (codes::PROJECTS_RESPONSE_NOT_FOUND, None),
            E::Forbidden(_) => (codes::PROJECTS_FORBIDDEN, None),
            E::Archived => (codes::PROJECTS_ARCHIVED, None),
            E::Changed(_) => (codes::PROJECTS_CHANGED, None),
            E::Settled(_) => (codes::PROJECTS_SETTLED, None),
            E::BadMove { from, to, allowed } => (
                codes::PROJECTS_BAD_MOVE,
                Some(serde_json::json!({"from": from, "to": to, "allowed": allowed})),
            ),
            E::StartByAccepting { from } => (
                codes::PROJECTS_BAD_MOVE,
                Some(
                    serde_json::json!({"from": from, "to": "in_progress", "allowed": ["cancelled"]}),
                ),
            ),
            E::AlreadyResponded(mine) => (
                codes::PROJECTS_ALREADY_RESPONDED,
                mine.map(|r| serde_json::json!({"response": r})),
            ),
            E::NotOpen(_) => (codes::PROJECTS_NOT_OPEN, None),
            E::CannotAccept(status) => (
                codes::PROJECTS_NOT_OPEN,
                Some(serde_json::json!({"status": status})),
            ),
            E::NotPending(_) => (codes::PROJECTS_NOT_PENDING, None),
        };
        let error = ApiError::new(code, message);
        match details {
            Some(details) => error.with_details(details),
            None => error,
        }
    }
}

impl From<NotReady> for ApiError {
    fn from(e: NotReady) -> Self {
        let details = serde_json::json!({ "failed": e.failed, "checks": e.checks });
        ApiError::new(codes::HEALTH_NOT_READY, e.to_string()).with_details(details)
    }
}
