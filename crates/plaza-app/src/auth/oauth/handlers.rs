//! `GET /api/auth/oauth/{provider}/start` and `…/callback`: the browser's
//! side of the flow — redirects, the cookie that ties a callback to the
//! browser that started it, and the answer as JSON or in a URL fragment.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::service::{self, Callback, STATE_TTL};
use crate::auth::handlers::{client, outcome_json};
use crate::http::{ApiError, ClientIp, ErrorBody, ValidPath};
use crate::state::AppState;

/// Ties a callback to the browser that started the sign-in, so nobody can
/// make someone else's browser finish a sign-in they began (login CSRF).
const BROWSER_COOKIE: &str = "plaza_oauth";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// Set by the provider when the user declined.
    error: Option<String>,
    error_description: Option<String>,
}

/// The configured providers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Providers {
    /// `google`, `github`, `oidc`: those with a client id and secret, none
    /// while the `social_login` feature is off.
    pub providers: Vec<&'static str>,
}

/// `GET /api/auth/oauth` — which "Sign in with …" buttons to show.
#[utoipa::path(get, path = "/api/auth/oauth", tag = "auth",
    responses((status = 200, body = Providers)))]
pub async fn providers(State(state): State<AppState>) -> axum::Json<Providers> {
    axum::Json(Providers {
        providers: service::providers(&state),
    })
}

fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => ApiError::internal(anyhow::anyhow!("unusable redirect URL")).into_response(),
    }
}

/// `GET /api/auth/oauth/{provider}/start` — off to the provider's sign-in page.
#[utoipa::path(get, path = "/api/auth/oauth/{provider}/start", tag = "auth",
    params(("provider" = String, Path, description = "`google`, `github` or `oidc`")),
    responses(
        (status = 302, description = "To the provider, with `state` and a PKCE challenge"),
        (status = 404, description = "No such provider configured", body = ErrorBody),
        (status = 503, description = "The provider cannot be reached", body = ErrorBody),
    ))]
pub async fn start(
    State(state): State<AppState>,
    ValidPath(name): ValidPath<String>,
) -> Result<Response, ApiError> {
    let begun = service::begin(&state, &name).await?;
    let mut res = redirect(&begun.authorize_url);
    let secure = if state.config.http.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{BROWSER_COOKIE}={}; Path=/api/auth/oauth; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        plaza_platform::secret::token_hash(&begun.state),
        STATE_TTL.as_secs()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(res)
}

/// The browser cookie `start` set, if the request carries it.
fn browser_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BROWSER_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// `GET /api/auth/oauth/{provider}/callback` — where the provider sends the
/// browser back. Answers tokens (or an MFA challenge) as JSON, or redirects
/// to the configured app URL with them in the fragment.
#[utoipa::path(get, path = "/api/auth/oauth/{provider}/callback", tag = "auth",
    params(("provider" = String, Path), CallbackQuery),
    responses(
        (status = 200, description = "Tokens, as from /api/auth/login", body = crate::auth::handlers::TokenResponse),
        (status = 302, description = "To `oauth.redirect_url#access_token=…` when configured"),
        (status = 401, description = "Bad or used state, refused code, or the user declined", body = ErrorBody),
        (status = 409, description = "An unverified account holds this email", body = ErrorBody),
        (status = 503, description = "The provider cannot be reached", body = ErrorBody),
    ))]
pub async fn callback(
    State(state): State<AppState>,
    ValidPath(name): ValidPath<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let callback = Callback {
        code: query.code,
        state: query.state,
        error: query.error,
        error_description: query.error_description,
        browser: browser_cookie(&headers),
    };
    let outcome = service::finish(&state, &name, callback, &client(&ip, &headers)).await?;
    let answer = outcome_json(outcome)?;
    Ok(match &state.config.oauth.redirect_url {
        None => axum::Json(answer).into_response(),
        Some(app) => redirect(&format!("{app}#{}", fragment(&answer))),
    })
}

/// The JSON answer as `a=b&c=d`, for a URL fragment.
fn fragment(answer: &serde_json::Value) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if let Some(map) = answer.as_object() {
        for (k, v) in map {
            match v {
                serde_json::Value::String(s) => {
                    out.append_pair(k, s);
                }
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                    out.append_pair(k, &v.to_string());
                }
                serde_json::Value::Array(items) => {
                    let joined: Vec<String> = items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect();
                    out.append_pair(k, &joined.join(","));
                }
                _ => {}
            }
        }
    }
    out.finish()
}
