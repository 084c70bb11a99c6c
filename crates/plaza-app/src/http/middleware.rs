//! Middleware every route shares: request ids, metrics by route template,
//! and security headers.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::util::option_layer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// Drops an incoming `x-request-id` that is not sane (too long, or with
/// characters other than letters, digits and `-_.:`), so a fresh one is made.
pub fn sanitize_request_id(mut req: Request) -> Request {
    let sane = req.headers().get(REQUEST_ID).is_some_and(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    });
    if !sane {
        req.headers_mut().remove(REQUEST_ID);
    }
    req
}

/// Makes request ids: UUIDv7, so they sort by time in logs.
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeRequestIdV7;

impl tower_http::request_id::MakeRequestId for MakeRequestIdV7 {
    fn make_request_id<B>(
        &mut self,
        _req: &axum::http::Request<B>,
    ) -> Option<tower_http::request_id::RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(tower_http::request_id::RequestId::new)
    }
}

/// Counts requests and times them, labelled by method, route template (never
/// the raw path: `/api/chats/{id}`, or `unmatched`) and status class.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let in_flight = metrics::gauge!("http_requests_in_flight");
    in_flight.increment(1.0);
    // Decrements even if the client goes away and the future is dropped.
    let _guard = InFlight(in_flight);
    let started = Instant::now();
    let res = next.run(req).await;
    let status = match res.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_owned()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    res
}

struct InFlight(metrics::Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// Content-Security-Policy for JSON: nothing may load, nothing may frame it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// For the bundled API docs page: its own scripts and styles only.
const HTML_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");

/// Whether a trusted proxy says the client came over HTTPS (and HSTS is
/// not sent on every response anyway).
pub fn forwarded_tls(http: &plaza_platform::config::HttpConfig, headers: &HeaderMap) -> bool {
    http.trust_proxy_headers
        && !http.hsts
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

pub fn add_hsts(res: &mut Response) {
    res.headers_mut()
        .insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
}

/// Headers that keep browsers from misreading or framing responses (and,
/// with `hsts`, from ever using plain HTTP for this host). Plain
/// set-header layers: no allocation per request.
pub fn security_headers(routes: Router<AppState>, hsts: bool) -> Router<AppState> {
    let hsts =
        hsts.then(|| SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HSTS));
    routes
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp as fn(&Response) -> Option<HeaderValue>,
        ))
        .layer(option_layer(hsts))
}

/// A handler's own policy (stored files), else the page's policy for the
/// bundled docs page, the API's for the rest.
fn csp(res: &Response) -> Option<HeaderValue> {
    if let Some(own) = res.headers().get(header::CONTENT_SECURITY_POLICY) {
        return Some(own.clone());
    }
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    Some(HeaderValue::from_static(if is_html {
        HTML_CSP
    } else {
        API_CSP
    }))
}
