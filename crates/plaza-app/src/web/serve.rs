//! The embedded files and how each is answered: type, caching, ETag and
//! the page's Content-Security-Policy.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rust_embed::Embed;

use crate::http::ApiError;
use crate::http::error::codes;

#[derive(Embed)]
#[folder = "../../web/dist"]
struct Dist;

/// Scripts, styles and connections (the API, `/ws`) from this origin
/// only: no inline script, no `eval`, nothing from a CDN.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Content-hashed names never change content.
const FOREVER: &str = "public, max-age=31536000, immutable";
/// The page names the current assets, so it is checked on every load.
const REVALIDATE: &str = "no-cache";

pub async fn index(headers: HeaderMap) -> Response {
    file("index.html", REVALIDATE, &headers)
}

pub async fn favicon(headers: HeaderMap) -> Response {
    file("favicon.svg", "public, max-age=86400", &headers)
}

pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    file(&format!("assets/{path}"), FOREVER, &headers)
}

fn file(path: &str, cache: &'static str, headers: &HeaderMap) -> Response {
    let Some(found) = Dist::get(path) else {
        let why = if path == "index.html" {
            "the web app is not built: run `npm run build` in web/ (docs/web.md)".to_owned()
        } else {
            format!("no route for GET /{path}")
        };
        return ApiError::new(codes::ROUTE_NOT_FOUND, why).into_response();
    };
    let hash = found.metadata.sha256_hash();
    let tag = format!(
        "\"{}\"",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..12])
    );
    let etag = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\""));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match found.data {
            std::borrow::Cow::Borrowed(b) => axum::body::Body::from(bytes::Bytes::from_static(b)),
            std::borrow::Cow::Owned(v) => axum::body::Body::from(v),
        };
        let mut res = body.into_response();
        if let Ok(kind) = HeaderValue::from_str(found.metadata.mimetype()) {
            res.headers_mut().insert(header::CONTENT_TYPE, kind);
        }
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}
