//! Rate limits as middleware, by named class (seed 003): `auth` per client
//! address, `ai` and `upload` per user, `general` per user or, for anonymous
//! calls, per address. Limits come from configuration. Every limited
//! response carries `RateLimit-Limit`, `-Remaining` and `-Reset`; a refused
//! one answers 429 with `Retry-After`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plaza_platform::config::Rate;
use plaza_platform::ratelimit::Decision;

use super::error::{ApiError, Code, codes};
use super::extract::ClientIp;
use super::principal::Principal;
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitClass {
    Auth,
    Ai,
    General,
    Upload,
}

impl LimitClass {
    pub fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Ai => "ai",
            Self::General => "general",
            Self::Upload => "upload",
        }
    }

    pub fn rate(self, state: &AppState) -> Rate {
        let limits = &state.config.rate_limit;
        match self {
            Self::Auth => limits.auth,
            Self::Ai => limits.ai,
            Self::General => limits.general,
            Self::Upload => limits.upload,
        }
    }

    /// The caller's budget: their user id when known and the class is per
    /// user, else their address.
    fn key(self, req: &Request, trust_proxy: bool) -> String {
        let user = req.extensions().get::<Principal>().map(|p| p.user_id);
        match (self, user) {
            (Self::Auth, _) | (_, None) => {
                let ip = ClientIp::from_parts(req.headers(), req.extensions(), trust_proxy);
                format!("ip:{}", ip.0)
            }
            (_, Some(user)) => format!("user:{user}"),
        }
    }
}

/// The middleware for one class; wire it with
/// `axum::middleware::from_fn_with_state((state, class), rate_limit)`.
pub async fn rate_limit(
    State((state, class)): State<(AppState, LimitClass)>,
    req: Request,
    next: Next,
) -> Response {
    if !state.config.features.rate_limit {
        return next.run(req).await;
    }
    let rate = class.rate(&state);
    let key = class.key(&req, state.config.http.trust_proxy_headers);
    let decision = state.limiter.check(class.name(), rate, &key).await;
    let mut res = if decision.allowed {
        next.run(req).await
    } else {
        let drained = drain(req).await;
        let mut res = refusal(class.name(), &decision, rate).into_response();
        if !drained {
            // The body is left unread, so this connection cannot carry
            // another request: say so rather than let the client find a
            // broken pipe.
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        res
    };
    set_headers(&mut res, &decision);
    res
}

/// Bodies up to this size are read and dropped before a 429, so the
/// connection stays open for the retry.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Reads a refused request's body (a small one); false if it is left unread.
async fn drain(req: Request) -> bool {
    use axum::body::HttpBody;
    let body = req.into_body();
    if body.is_end_stream() {
        return true;
    }
    let small = body
        .size_hint()
        .upper()
        .is_some_and(|n| n <= DRAIN_LIMIT as u64);
    small && axum::body::to_bytes(body, DRAIN_LIMIT).await.is_ok()
}

/// The 429 for a refused `decision` of the limit named `class`.
pub fn refusal(class: &'static str, decision: &Decision, rate: Rate) -> ApiError {
    metrics::counter!("plaza_rate_limit_rejections_total", "class" => class).increment(1);
    let retry = seconds(decision.retry_after.unwrap_or(Duration::ZERO));
    too_many(
        codes::RATE_LIMITED,
        format!("too many requests; try again in {retry} seconds"),
        retry,
    )
    .with_details(serde_json::json!({
        "class": class,
        "limit": decision.limit,
        "period_seconds": rate.period.as_secs(),
        "retry_after_seconds": retry,
    }))
}

/// A 429 `code` asking the client to wait `retry` (rounded up to whole seconds).
pub fn too_many_after(
    code: &'static Code,
    message: impl Into<String>,
    retry: Duration,
) -> ApiError {
    too_many(code, message, seconds(retry))
}

fn too_many(code: &'static Code, message: impl Into<String>, retry_seconds: u64) -> ApiError {
    ApiError::new(code, message).with_header(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(retry_seconds),
    )
}

/// Whole seconds, rounded up so a client never retries too early.
pub(crate) fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// A narrower class nested inside a wider one answers for itself: headers
/// already set by an inner limit are kept.
fn set_headers(res: &mut Response, d: &Decision) {
    let headers = res.headers_mut();
    if headers.contains_key("ratelimit-limit") {
        return;
    }
    headers.insert("ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(seconds(d.reset_after)));
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use plaza_core::{Role, UserId};

    use super::*;

    fn request(user: Option<UserId>) -> Request {
        let mut req = Request::new(axum::body::Body::empty());
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([198, 51, 100, 7], 4000))));
        if let Some(user_id) = user {
            req.extensions_mut().insert(Principal {
                user_id,
                role: Role::User,
            });
        }
        req
    }

    #[test]
    fn budgets_are_per_user_when_known_except_for_auth() {
        let user = UserId::new();
        let anonymous = request(None);
        let signed_in = request(Some(user));
        for class in [LimitClass::General, LimitClass::Ai, LimitClass::Upload] {
            assert_eq!(class.key(&anonymous, false), "ip:198.51.100.7");
            assert_eq!(class.key(&signed_in, false), format!("user:{user}"));
        }
        // Sign-in attempts are limited per address whoever claims to be calling.
        assert_eq!(LimitClass::Auth.key(&signed_in, false), "ip:198.51.100.7");
    }

    #[test]
    fn retry_seconds_round_up() {
        assert_eq!(seconds(Duration::from_millis(1)), 1);
        assert_eq!(seconds(Duration::from_secs(20)), 20);
        assert_eq!(seconds(Duration::from_millis(20_001)), 21);
        assert_eq!(seconds(Duration::ZERO), 0);
    }
}
