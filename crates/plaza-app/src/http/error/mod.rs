//! One error type for every transport and one table that maps every
//! slice's errors to HTTP, in the format of DESIGN §3:
//! `{"error", "type", "code", "requestId", "timestamp", "details"}`.
//!
//! - [`codes`]: every error plaza answers, with its stable `code`, status
//!   and `type` (docs/errors.md lists them; a test keeps the two in step).
//! - [`map`]: `From<SliceError> for ApiError`, for every slice.
//! - [`envelope`]: the outermost layer, which stamps the request id and time
//!   on every error and turns responses that layers made (an unknown route,
//!   a body limit, a timeout, a panic) into the same format.

pub mod codes;
mod envelope;
mod map;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

pub use codes::Code;
pub use envelope::{error_envelope, panic_response};

/// The `type` of an error: a broad class clients can branch on; `code`
/// names the error itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    ValidationError,
    AuthenticationError,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimitError,
    InternalError,
    DependencyError,
    TimeoutError,
    /// The AI model could not answer (seed 003's `AIServiceError`).
    AiServiceError,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationError => "validation_error",
            Self::AuthenticationError => "authentication_error",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimitError => "rate_limit_error",
            Self::InternalError => "internal_error",
            Self::DependencyError => "dependency_error",
            Self::TimeoutError => "timeout_error",
            Self::AiServiceError => "ai_service_error",
        }
    }
}

/// The body of every error response.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A message for people.
    #[schema(example = "email must look like name@example.com")]
    pub error: String,
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    /// The error's stable name (docs/errors.md lists every one).
    #[schema(example = "input.invalid")]
    pub code: &'static str,
    /// The `x-request-id` of the request, to quote when reporting a problem.
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// When the error happened (RFC 3339, UTC).
    pub timestamp: String,
    /// Machine-readable specifics, such as `{"fields": {"email": "…"}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// A 5xx's logged cause, for error tracking (never sent to the client).
#[derive(Clone, Debug)]
pub(crate) struct Cause(pub String);

/// What went wrong, before it is stamped with the request id and time.
#[derive(Clone, Debug)]
struct Failure {
    code: &'static Code,
    message: String,
    details: Option<Value>,
}

/// An error a transport answers. Boxed, so `Result<T, ApiError>` stays small.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    failure: Failure,
    headers: HeaderMap,
    /// The cause of a 5xx: logged, never sent.
    source: Option<anyhow::Error>,
}

impl ApiError {
    /// The error `code`, with its status, and a message for people. A 401
    /// carries the `Bearer` challenge (RFC 6750 §3.1).
    pub fn new(code: &'static Code, message: impl Into<String>) -> Self {
        let mut headers = HeaderMap::new();
        if code.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        Self(Box::new(Inner {
            status: code.status,
            failure: Failure {
                code,
                message: message.into(),
                details: None,
            },
            headers,
            source: None,
        }))
    }

    /// `code` about one field (`details.fields.<name>`).
    pub fn field(code: &'static Code, field: &str, reason: impl std::fmt::Display) -> Self {
        let reason = reason.to_string();
        Self::new(code, format!("{field}: {reason}"))
            .with_details(serde_json::json!({ "fields": { field: reason } }))
    }

    /// One field is wrong (422 `input.invalid`, `details.fields.<name>`).
    pub fn invalid_field(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::field(codes::INPUT_INVALID, field, reason)
    }

    /// Well-formed input that is wrong as a whole (422 `input.invalid`).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(codes::INPUT_INVALID, message)
    }

    /// Input that cannot be read at all (400 `input.malformed`).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(codes::INPUT_MALFORMED, message)
    }

    pub fn payload_too_large(limit: u64) -> Self {
        Self::new(
            codes::INPUT_TOO_LARGE,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .with_details(serde_json::json!({ "limit_bytes": limit }))
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(codes::INPUT_UNSUPPORTED_MEDIA_TYPE, message)
    }

    /// A backing service is not answering (503 `server.unavailable`).
    pub fn dependency(message: impl Into<String>) -> Self {
        Self::new(codes::SERVER_UNAVAILABLE, message)
    }

    /// Something failed that the client cannot fix (500). The cause is
    /// logged with the request id; the client sees only "internal error".
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(codes::SERVER_INTERNAL, "internal error");
        e.0.source = Some(source.into());
        e
    }

    /// A WebSocket route reached without a valid upgrade (400, or the 405 or
    /// 426 axum chose for the rule broken).
    pub fn not_an_upgrade(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(codes::INPUT_NOT_AN_UPGRADE, message).with_status(status)
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.0.failure.details = Some(details);
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    /// Answers with `status` instead of the code's own (for responses a
    /// layer made with a status of its choosing).
    fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = status;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.failure.code.kind
    }

    /// The error's stable name.
    pub fn code(&self) -> &'static str {
        self.0.failure.code.name
    }

    /// The message for people (for a 5xx, the generic one clients see).
    pub fn message(&self) -> &str {
        &self.0.failure.message
    }

    pub fn details(&self) -> Option<&Value> {
        self.0.failure.details.as_ref()
    }

    /// Logs the cause of a 5xx, for transports that answer without
    /// turning this into a response (GraphQL).
    pub fn log_cause(&self) {
        if let Some(source) = &self.0.source {
            tracing::error!(error = format!("{source:#}"), "request failed");
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Inner {
            status,
            failure,
            headers,
            source,
        } = *self.0;
        let mut res = (status, headers).into_response();
        if let Some(source) = source {
            let cause = format!("{source:#}");
            tracing::error!(error = cause, "request failed");
            res.extensions_mut().insert(Cause(cause));
        }
        // The body is written by `error_envelope`, which knows the request id.
        res.extensions_mut().insert(failure);
        res
    }
}
