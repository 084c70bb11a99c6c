//! One error type for every handler and one mapping to HTTP, in the format
//! of DESIGN §3: `{"error", "type", "requestId", "timestamp", "details"}`.
//!
//! Handlers return `ApiError`; `error_envelope` (outermost middleware) stamps
//! the request id and time on it, and turns every other error response — an
//! unknown route, a wrong method, a body limit, a timeout, a panic — into the
//! same format.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::state::AppState;

/// The `type` of an error: a stable name clients can branch on.
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
}

/// The body of every error response.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A message for people.
    #[schema(example = "email must look like name@example.com")]
    pub error: String,
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    /// The `x-request-id` of the request, to quote when reporting a problem.
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// When the error happened (RFC 3339, UTC).
    pub timestamp: String,
    /// Machine-readable specifics, such as `{"fields": {"email": "…"}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// What went wrong, before it is stamped with the request id and time.
#[derive(Clone, Debug)]
struct Failure {
    kind: ErrorKind,
    message: String,
    details: Option<Value>,
}

/// An error a handler returns. Boxed, so `Result<T, ApiError>` stays small.
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
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            status,
            failure: Failure {
                kind,
                message: message.into(),
                details: None,
            },
            headers: HeaderMap::new(),
            source: None,
        }))
    }

    /// Input that is well-formed but wrong (422).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::ValidationError,
            message,
        )
    }

    /// One field is wrong (422, `details.fields.<name>`).
    pub fn invalid_field(field: &str, reason: impl std::fmt::Display) -> Self {
        let reason = reason.to_string();
        Self::validation(format!("{field}: {reason}"))
            .with_details(serde_json::json!({ "fields": { field: reason } }))
    }

    /// Input that cannot be read at all (400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::ValidationError, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::AuthenticationError,
            message,
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorKind::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorKind::Conflict, message)
    }

    pub fn payload_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::PayloadTooLarge,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .with_details(serde_json::json!({ "limit_bytes": limit }))
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::UnsupportedMediaType,
            message,
        )
    }

    /// A backing service is not answering (503).
    pub fn dependency(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::DependencyError,
            message,
        )
    }

    /// Something failed that the client cannot fix (500). The cause is
    /// logged with the request id; the client sees only "internal error".
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::InternalError,
            "internal error",
        );
        e.0.source = Some(source.into());
        e
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.0.failure.details = Some(details);
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.failure.kind
    }

    /// The message for people (for a 5xx, the generic one clients see).
    pub fn message(&self) -> &str {
        &self.0.failure.message
    }

    pub fn details(&self) -> Option<&Value> {
        self.0.failure.details.as_ref()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => {
                tracing::error!(
                    "database pool exhausted: no connection within the acquire timeout"
                );
                Self::dependency("the database is busy; try again shortly")
            }
            e => Self::internal(e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::internal(e)
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
        if let Some(source) = source {
            tracing::error!(error = format!("{source:#}"), "request failed");
        }
        let mut res = (status, headers).into_response();
        // The body is written by `error_envelope`, which knows the request id.
        res.extensions_mut().insert(failure);
        res
    }
}

/// The outermost layer's partner: every response of status 400 or more
/// leaves in the error format.
pub async fn error_envelope(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let status = res.status();
    if status.as_u16() < 400 {
        return res;
    }
    let failure = match res.extensions_mut().remove::<Failure>() {
        Some(f) => f,
        None => error_for_status(status, &method, &path, &state).0.failure,
    };
    let body = ErrorBody {
        error: failure.message,
        kind: failure.kind,
        request_id,
        timestamp: state.clock.now().to_string(),
        details: failure.details,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let (mut parts, _) = res.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The error for a response that a layer or the router made without an
/// `ApiError` (a 404 route, a 405, a body limit, a timeout), worded as the
/// handlers' own errors are.
fn error_for_status(status: StatusCode, method: &Method, path: &str, state: &AppState) -> ApiError {
    let http = &state.config.http;
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found(format!("no route for {method} {path}")),
        // axum adds the `Allow` header after this layer runs; it reaches the client.
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            ErrorKind::MethodNotAllowed,
            format!("{method} is not allowed on {path}; the Allow header lists what is"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(http.body_limit.0),
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ApiError::new(
            status,
            ErrorKind::TimeoutError,
            format!(
                "the request took longer than {} to answer",
                http.request_timeout
            ),
        ),
        StatusCode::UNAUTHORIZED => ApiError::unauthenticated("authentication required"),
        StatusCode::FORBIDDEN => ApiError::forbidden("forbidden"),
        StatusCode::CONFLICT => ApiError::conflict("conflict"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("unsupported content type")
        }
        StatusCode::TOO_MANY_REQUESTS => {
            ApiError::new(status, ErrorKind::RateLimitError, "too many requests")
        }
        StatusCode::SERVICE_UNAVAILABLE => ApiError::dependency("service unavailable"),
        s if s.is_client_error() => ApiError::new(
            s,
            ErrorKind::ValidationError,
            s.canonical_reason().unwrap_or("bad request").to_lowercase(),
        ),
        s => ApiError::new(s, ErrorKind::InternalError, "internal error"),
    }
}

/// What the panic-catching layer answers; the panic is logged inside the
/// request's span, so the log line carries the request id.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".into());
    tracing::error!(panic = %message, "request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::InternalError,
        "internal error",
    )
    .into_response()
}
