//! What every slice shares over HTTP — state, errors, extractors, rate
//! limits, middleware, OpenAPI — and the assembly of the slices' routers
//! into one application.

pub mod auth;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod path;
pub mod principal;
pub mod ratelimit;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plaza_platform::shutdown::Shutdown;
use tokio::net::TcpListener;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use auth::{AdminUser, AuthUser, MaybeAuthUser};
pub use error::{ApiError, ErrorBody, ErrorKind};
pub use extract::{ClientIp, ValidJson, ValidQuery, page_limit};
pub use path::ValidPath;
pub use principal::Principal;
pub use ratelimit::LimitClass;

use crate::state::AppState;

/// `routes` under the middleware every request passes: ids, tracing,
/// metrics, compression, the error envelope, CORS, security headers, the
/// body limit, shutdown, authentication, the timeout and panics; unknown
/// paths answer `route.not_found`.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let http = &state.config.http;
    let body_limit = usize::try_from(http.body_limit.0).unwrap_or(usize::MAX);
    let inner = routes
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            http.request_timeout.0,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), admit))
        .layer(DefaultBodyLimit::max(body_limit));
    let hsts = http.hsts || http.public_url.starts_with("https://");
    middleware::security_headers(inner, hsts)
        .layer(cors(&http.cors_origins.0))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::error_envelope,
        ))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(middleware::track_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(middleware::MakeRequestIdV7))
        .layer(MapRequestLayer::new(middleware::sanitize_request_id))
        .with_state(state)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        error::codes::ROUTE_NOT_FOUND,
        format!("no route for {method} {}", uri.path()),
    )
}

fn request_span(req: &Request) -> tracing::Span {
    let request_id = req
        .headers()
        .get(middleware::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!(
        "request",
        method = %req.method(),
        route,
        path = %req.uri().path(),
        request_id,
    )
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(middleware::REQUEST_ID),
        ])
        .expose_headers([
            HeaderName::from_static(middleware::REQUEST_ID),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(3600))
}

/// Serves `app` on `listener` until `shutdown` begins; then stops
/// accepting and lets requests in flight finish. When `shutdown` halts
/// (its deadline passed), requests still running are answered 503 and
/// `serve` returns as their connections close.
pub async fn serve(listener: TcpListener, app: Router, shutdown: Shutdown) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let stopping = shutdown.clone();
    // Small writes (WebSocket frames, an ack then an event) must not wait
    // for the peer's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stopping.stopping().await });
    let halted = async {
        shutdown.halted().await;
        // Halted handlers answer at once; give their connections a moment to close.
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    tokio::select! {
        result = server.into_future() => result,
        () = halted => Ok(()),
    }
}

/// Cancels handlers still running when shutdown halts.
/// Every request's way in: who is calling (the token is checked once,
/// here), and a 503 instead of an answer once shutdown gives up waiting.
/// Liveness and metrics answer without the database (`/ready` says what
/// is down).
fn is_probe(path: &str) -> bool {
    matches!(path, "/health" | "/api/v1/health" | "/metrics" | "/ready")
}

async fn admit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let forwarded_tls = middleware::forwarded_tls(&state.config.http, req.headers());
    let mut res = if state.db.is_down() && !is_probe(req.uri().path()) {
        ApiError::dependency("the database is unavailable; retry shortly")
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("2"))
            .into_response()
    } else {
        let answer = async {
            let req = auth::identify(&state, req).await;
            next.run(req).await
        };
        tokio::select! {
            res = answer => res,
            () = state.shutdown.halted() => {
                ApiError::dependency("the server is shutting down; retry the request").into_response()
            }
        }
    };
    if forwarded_tls {
        middleware::add_hsts(&mut res);
    }
    res
}
