//! The outermost layer's partner: every response of status 400 or more
//! leaves in the error format, whoever made it.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use plaza_platform::telemetry::Failed;

use super::{ApiError, Cause, ErrorBody, Failure, codes};
use crate::state::AppState;

/// Writes the error body of every 4xx and 5xx, with the request id and time.
pub async fn error_envelope(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // The route's pattern, not the path: ids stay out of error tracking.
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| path.clone(), |m| m.as_str().to_owned());
    let mut res = next.run(req).await;
    let status = res.status();
    if status.as_u16() < 400 {
        return res;
    }
    let failure = match res.extensions_mut().remove::<Failure>() {
        Some(f) => f,
        None => error_for_status(status, &method, &path, &state).0.failure,
    };
    if status.is_server_error() {
        let cause = res.extensions_mut().remove::<Cause>();
        plaza_platform::telemetry::report_failure(&Failed {
            request_id: &request_id,
            status: status.as_u16(),
            code: failure.code.name,
            method: method.as_str(),
            route: &route,
            cause: cause.as_ref().map(|c| c.0.as_str()),
        });
    }
    let body = ErrorBody {
        error: failure.message,
        kind: failure.code.kind,
        code: failure.code.name,
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
pub(crate) fn error_for_status(
    status: StatusCode,
    method: &Method,
    path: &str,
    state: &AppState,
) -> ApiError {
    let http = &state.config.http;
    match status {
        StatusCode::NOT_FOUND => ApiError::new(
            codes::ROUTE_NOT_FOUND,
            format!("no route for {method} {path}"),
        ),
        // axum adds the `Allow` header after this layer runs; it reaches the client.
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            codes::ROUTE_METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}; the Allow header lists what is"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(http.body_limit.0),
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ApiError::new(
            codes::SERVER_TIMEOUT,
            format!(
                "the request took longer than {} to answer",
                http.request_timeout
            ),
        )
        .with_status(status),
        StatusCode::UNAUTHORIZED => {
            ApiError::new(codes::AUTH_TOKEN_MISSING, "authentication required")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("unsupported content type")
        }
        StatusCode::TOO_MANY_REQUESTS => ApiError::new(codes::RATE_LIMITED, "too many requests"),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::dependency("service unavailable"),
        s if s.is_client_error() => ApiError::new(
            codes::REQUEST_REFUSED,
            s.canonical_reason().unwrap_or("bad request").to_lowercase(),
        )
        .with_status(s),
        s => ApiError::new(codes::SERVER_INTERNAL, "internal error").with_status(s),
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
    let mut res = ApiError::new(codes::SERVER_INTERNAL, "internal error").into_response();
    res.extensions_mut()
        .insert(Cause(format!("panic: {message}")));
    res
}
