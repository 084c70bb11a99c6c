//! The authorization-code flow with PKCE (RFC 7636, S256): `start` sends the
//! browser to the provider with a single-use `state`; `callback` checks it,
//! trades the code for a token, asks who the user is, and signs them in.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::account;
use super::provider::{self, Provider};
use crate::auth::handlers::client;
use crate::auth::one_time::{self, Purpose};
use crate::http::{ApiError, ClientIp, ErrorBody};
use crate::state::AppState;
use plaza_platform::secret::{random_token, token_hash};

const STATE_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);
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

fn enabled(state: &AppState) -> Result<(), ApiError> {
    if state.config.features.social_login {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "social sign-in is turned off on this server",
        ))
    }
}

fn callback_url(state: &AppState, provider: &str) -> String {
    format!(
        "{}/api/auth/oauth/{provider}/callback",
        state.config.http.public_url.trim_end_matches('/')
    )
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
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    enabled(&state)?;
    let provider = provider::resolve(&state.config.oauth, &state.http, &name).await?;
    let verifier =
        random_token().map_err(|e| ApiError::internal(anyhow::anyhow!("random: {e}")))?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let data = json!({"provider": provider.name, "verifier": verifier});
    let oauth_state =
        one_time::issue(&mut tx, None, Purpose::OAuthState, &data, now, STATE_TTL).await?;
    tx.commit().await?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", &callback_url(&state, provider.name))
        .append_pair("scope", &provider.scopes)
        .append_pair("state", &oauth_state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let sep = if provider.authorize_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut res = redirect(&format!("{}{sep}{query}", provider.authorize_url));
    let secure = if state.config.http.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{BROWSER_COOKIE}={}; Path=/api/auth/oauth; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        token_hash(&oauth_state),
        STATE_TTL.as_secs()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(res)
}

/// The browser cookie `start` set, if the request carries it.
fn browser_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BROWSER_COOKIE)
        .map(|(_, value)| value)
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
    Path(name): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    enabled(&state)?;
    let provider = provider::resolve(&state.config.oauth, &state.http, &name).await?;
    if let Some(error) = query.error {
        let why = query.error_description.unwrap_or(error);
        return Err(ApiError::unauthenticated(format!(
            "the provider did not sign you in: {why}"
        )));
    }
    let (Some(code), Some(oauth_state)) = (query.code, query.state) else {
        return Err(ApiError::invalid_field(
            "code",
            "the callback needs `code` and `state`",
        ));
    };
    if browser_cookie(&headers) != Some(token_hash(&oauth_state).as_str()) {
        return Err(ApiError::unauthenticated(
            "this sign-in was started in another browser; start again here",
        ));
    }
    let verifier = take_state(&state, &oauth_state, provider.name).await?;
    let access_token = exchange(&state, &provider, &code, &verifier).await?;
    let identity = super::userinfo::fetch(&state.http, &provider, &access_token).await?;
    let user = account::sign_in(&state, &identity).await?;
    let answer =
        crate::auth::mfa::handlers::after_password(&state, user, &client(&ip, &headers)).await?;
    Ok(match &state.config.oauth.redirect_url {
        None => axum::Json(answer).into_response(),
        Some(app) => redirect(&format!("{app}#{}", fragment(&answer))),
    })
}

/// Consumes the single-use state; the provider must be the one it was made for.
async fn take_state(state: &AppState, token: &str, provider: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::unauthenticated("the sign-in attempt is unknown, used or expired; start again")
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let found = one_time::find(&mut tx, token, &[Purpose::OAuthState], now)
        .await?
        .ok_or_else(bad)?;
    let data: serde_json::Value = serde_json::from_str(&found.data).unwrap_or_default();
    if data["provider"] != provider || !one_time::consume(&mut tx, &found.id, now).await? {
        return Err(bad());
    }
    tx.commit().await?;
    data["verifier"].as_str().map(str::to_owned).ok_or_else(bad)
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
}

async fn exchange(
    state: &AppState,
    provider: &Provider,
    code: &str,
    verifier: &str,
) -> Result<String, ApiError> {
    let redirect_uri = callback_url(state, provider.name);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", provider.client_id.as_str()),
        ("client_secret", provider.client_secret.as_str()),
        ("code_verifier", verifier),
    ];
    let res = state
        .http
        .post(&provider.token_url)
        .header(header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(provider = provider.name, error = %e, "token endpoint unreachable");
            ApiError::dependency("the sign-in provider cannot be reached; try again later")
        })?;
    let status = res.status();
    let answer: TokenAnswer = res.json().await.map_err(|_| {
        ApiError::dependency(format!(
            "the provider's token endpoint answered {status} without JSON"
        ))
    })?;
    match (answer.access_token, answer.error) {
        (Some(token), None) if status.is_success() => Ok(token),
        (_, error) => {
            tracing::info!(provider = provider.name, %status, error = ?error, "code exchange refused");
            Err(ApiError::unauthenticated(
                "the provider refused the sign-in code; start again",
            ))
        }
    }
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
