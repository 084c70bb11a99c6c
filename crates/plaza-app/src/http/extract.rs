//! Extractors that answer bad input in the error format: JSON bodies with
//! the parse error's position or the failing field, query strings, and the
//! client's address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::error::ApiError;
use crate::state::AppState;

/// A list's `?limit=`: 1 to 100, `default` when absent (DESIGN §3).
pub fn page_limit(given: Option<u32>, default: u32) -> Result<i64, ApiError> {
    let limit = given.unwrap_or(default);
    if (1..=100).contains(&limit) {
        Ok(i64::from(limit))
    } else {
        Err(ApiError::invalid_field("limit", "must be 1 to 100"))
    }
}

/// A JSON body, deserialised into `T`. Newtypes inside `T` (such as
/// `Email`) validate while deserialising, so a handler only ever sees valid
/// input.
///
/// - wrong or missing `Content-Type` → 415
/// - larger than the body limit → 413
/// - not JSON → 400 with `details: {line, column}`
/// - JSON of the wrong shape or a value that fails validation → 422 with
///   `details: {fields: {<path>: <reason>}}`
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<T> FromRequest<AppState> for ValidJson<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type(
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(state.config.http.body_limit.0)
            } else {
                ApiError::bad_request(format!(
                    "cannot read the request body: {}",
                    rejection.body_text()
                ))
            }
        })?;
        parse_json(&bytes).map(ValidJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Parses JSON into `T`, describing what is wrong in the error format.
/// A string holding NUL (`\u0000`) anywhere is refused first: no store
/// keeps it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_nul(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        describe_json_error(&path, &inner)
    })?;
    de.end().map_err(|e| describe_json_error(".", &e))?;
    Ok(value)
}

/// 422 when a JSON text holds an escaped NUL, with its line and column.
pub fn refuse_nul(json: &[u8]) -> Result<(), ApiError> {
    let Some(at) = plaza_core::text::escaped_nul(json) else {
        return Ok(());
    };
    let before = &json[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = at
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |n| n + 1)
        + 1;
    Err(
        ApiError::validation("text must not contain the NUL character (\\u0000)")
            .with_details(json!({ "line": line, "column": column })),
    )
}

fn describe_json_error(path: &str, err: &serde_json::Error) -> ApiError {
    let (line, column) = (err.line(), err.column());
    // serde_json appends " at line L column C"; the position goes in details.
    let full = err.to_string();
    let reason = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(r, _)| r)
        .to_owned();
    match err.classify() {
        serde_json::error::Category::Data => {
            let field = match (path, reason.strip_prefix("missing field `")) {
                (".", Some(rest)) => rest.trim_end_matches('`').to_owned(),
                (p, Some(rest)) => format!("{p}.{}", rest.trim_end_matches('`')),
                (p, None) => p.to_owned(),
            };
            let reason = if reason.starts_with("missing field") {
                "is required".to_owned()
            } else {
                reason
            };
            if field == "." {
                ApiError::validation(format!("the body has the wrong shape: {reason}"))
                    .with_details(json!({ "line": line, "column": column }))
            } else {
                ApiError::validation(format!("{field}: {reason}")).with_details(json!({
                    "fields": { field: reason },
                    "line": line,
                    "column": column,
                }))
            }
        }
        _ => ApiError::bad_request(format!(
            "malformed JSON: {reason} at line {line} column {column}"
        ))
        .with_details(json!({ "line": line, "column": column })),
    }
}

/// A query string, deserialised into `T`; a wrong one answers 422 naming the
/// parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) =
            form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.contains('\0'))
        {
            return Err(ApiError::invalid_field(
                &name,
                "must not contain the NUL character (%00)",
            ));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ValidQuery)
            .map_err(|err| {
                let field = err.path().to_string();
                let reason = err.into_inner().to_string();
                let field = match reason.strip_prefix("missing field `") {
                    Some(rest) => rest.trim_end_matches('`').to_owned(),
                    None => field,
                };
                ApiError::invalid_field(&field, reason)
            })
    }
}

/// The client's address: the peer, or — only when
/// `http.trust_proxy_headers` is on — the last `X-Forwarded-For` hop, which
/// is the one the trusted proxy itself saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn from_parts(
        headers: &HeaderMap,
        extensions: &axum::http::Extensions,
        trust_proxy: bool,
    ) -> Self {
        if trust_proxy {
            let forwarded = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
                .next_back();
            if let Some(ip) = forwarded {
                return Self(ip);
            }
        }
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Self(peer)
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(
            &parts.headers,
            &parts.extensions,
            state.config.http.trust_proxy_headers,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Signup {
        email: plaza_core::Email,
        age: u8,
        nested: Option<Nested>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Nested {
        n: u32,
    }

    fn details(e: &ApiError) -> serde_json::Value {
        e.details().cloned().unwrap_or_default()
    }

    #[test]
    fn syntax_errors_are_400_with_their_position() {
        let e = parse_json::<Signup>(b"{\"email\": \"a@b.io\",\n \"age\": }").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(details(&e), json!({"line": 2, "column": 9}));
        let e = parse_json::<Signup>(b"{\"email\": \"a@b.io\", \"age\": 3} trailing").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = parse_json::<Signup>(b"").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn shape_and_value_errors_are_422_naming_the_field() {
        let e = parse_json::<Signup>(br#"{"email": "nope", "age": 3}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            details(&e)["fields"]["email"],
            "email must look like name@example.com"
        );

        let e = parse_json::<Signup>(br#"{"email": "a@b.io"}"#).unwrap_err();
        assert_eq!(details(&e)["fields"]["age"], "is required");

        let e = parse_json::<Signup>(br#"{"email": "a@b.io", "age": 300}"#).unwrap_err();
        assert!(
            details(&e)["fields"]["age"]
                .as_str()
                .unwrap()
                .contains("invalid value")
        );

        let e = parse_json::<Signup>(br#"{"email": "a@b.io", "age": 1, "nested": {"n": "x"}}"#)
            .unwrap_err();
        assert!(
            details(&e)["fields"]["nested.n"].is_string(),
            "{:?}",
            details(&e)
        );

        let e = parse_json::<Signup>(b"[1, 2]").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_nul_anywhere_is_422_at_its_position() {
        let e = parse_json::<Signup>(b"{\"email\": \"a@b.io\",\n \"age\": 1, \"x\": \"a\\u0000\"}")
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(details(&e), json!({"line": 2, "column": 19}));
        assert!(e.message().contains("NUL"), "{}", e.message());
        let e = parse_json::<Signup>(br#"{"email": "a@b.io", "age": 1, "x": "a\\u0000"}"#);
        assert!(e.is_ok(), "an escaped backslash before u0000 is text");
    }

    #[test]
    fn client_ip_trusts_forwarding_only_when_told() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        let mut ext = axum::http::Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 2], 5000))));
        assert_eq!(
            ClientIp::from_parts(&headers, &ext, false).0,
            IpAddr::from([10, 0, 0, 2])
        );
        assert_eq!(
            ClientIp::from_parts(&headers, &ext, true).0,
            IpAddr::from([203, 0, 113, 7])
        );
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(
            ClientIp::from_parts(&headers, &ext, true).0,
            IpAddr::from([10, 0, 0, 2])
        );
    }
}
