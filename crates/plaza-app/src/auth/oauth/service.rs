//! The authorization-code flow with PKCE (RFC 7636, S256): [`begin`] makes
//! the provider's sign-in URL with a single-use `state`; [`finish`] checks
//! it, trades the code for a token, asks who the user is, and signs them in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use plaza_platform::secret::{random_token, token_hash};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::provider::{self, Provider};
use crate::auth::error::{AuthError, invalid};
use crate::auth::one_time::{self, Purpose};
use crate::auth::service::{Client, Outcome, after_proof};
use crate::state::AppState;

pub use super::account::forget;

pub const STATE_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Where to send the browser, and the `state` the callback must bring back.
#[derive(Debug)]
pub struct Begun {
    pub authorize_url: String,
    pub state: String,
}

/// What the provider sent the browser back with.
#[derive(Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the provider when the user declined.
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The browser cookie that `begin`'s caller set: the hash of `state`.
    pub browser: Option<String>,
}

fn enabled(state: &AppState) -> Result<(), AuthError> {
    if state.config.features.social_login {
        Ok(())
    } else {
        Err(AuthError::OAuthOff)
    }
}

fn callback_url(state: &AppState, provider: &str) -> String {
    format!(
        "{}/api/auth/oauth/{provider}/callback",
        state.config.http.public_url.trim_end_matches('/')
    )
}

/// The providers a sign-in page may offer: none while `social_login` is off.
pub fn providers(state: &AppState) -> Vec<&'static str> {
    if enabled(state).is_err() {
        return Vec::new();
    }
    provider::available(&state.config.oauth)
}

/// Starts a sign-in with provider `name`.
#[tracing::instrument(skip(state))]
pub async fn begin(state: &AppState, name: &str) -> Result<Begun, AuthError> {
    enabled(state)?;
    let provider = provider::resolve(&state.config.oauth, &state.http, name).await?;
    let verifier = random_token()?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut work = state.work().await?;
    let now = work.now();
    let data = json!({"provider": provider.name, "verifier": verifier});
    let oauth_state =
        one_time::issue(&mut work, None, Purpose::OAuthState, &data, now, STATE_TTL).await?;
    work.commit().await?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", &callback_url(state, provider.name))
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
    Ok(Begun {
        authorize_url: format!("{}{sep}{query}", provider.authorize_url),
        state: oauth_state,
    })
}

/// Finishes a sign-in with provider `name`: tokens, or a second-factor
/// challenge for an account that has factors.
#[tracing::instrument(skip_all, fields(provider = name))]
pub async fn finish(
    state: &AppState,
    name: &str,
    callback: Callback,
    client: &Client,
) -> Result<Outcome, AuthError> {
    enabled(state)?;
    let provider = provider::resolve(&state.config.oauth, &state.http, name).await?;
    if let Some(error) = callback.error {
        return Err(AuthError::Declined(
            callback.error_description.unwrap_or(error),
        ));
    }
    let (Some(code), Some(oauth_state)) = (callback.code, callback.state) else {
        return Err(invalid("code", "the callback needs `code` and `state`"));
    };
    if callback.browser.as_deref() != Some(token_hash(&oauth_state).as_str()) {
        return Err(AuthError::OtherBrowser);
    }
    let verifier = take_state(state, &oauth_state, provider.name).await?;
    let access_token = exchange(state, &provider, &code, &verifier).await?;
    let identity = super::userinfo::fetch(&state.http, &provider, &access_token).await?;
    let user = super::account::sign_in(state, &identity).await?;
    after_proof(state, user, client).await
}

/// Consumes the single-use state; the provider must be the one it was made for.
async fn take_state(state: &AppState, token: &str, provider: &str) -> Result<String, AuthError> {
    let mut work = state.work().await?;
    let now = work.now();
    let found = one_time::find(&mut work, token, &[Purpose::OAuthState], now)
        .await?
        .ok_or(AuthError::OAuthStateInvalid)?;
    let data: serde_json::Value = serde_json::from_str(&found.data).unwrap_or_default();
    if data["provider"] != provider || !one_time::consume(&mut work, &found.id, now).await? {
        return Err(AuthError::OAuthStateInvalid);
    }
    work.commit().await?;
    data["verifier"]
        .as_str()
        .map(str::to_owned)
        .ok_or(AuthError::OAuthStateInvalid)
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
) -> Result<String, AuthError> {
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
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(provider = provider.name, error = %e, "token endpoint unreachable");
            AuthError::ProviderUnavailable(
                "the sign-in provider cannot be reached; try again later".into(),
            )
        })?;
    let status = res.status();
    let answer: TokenAnswer = res.json().await.map_err(|_| {
        AuthError::ProviderUnavailable(format!(
            "the provider's token endpoint answered {status} without JSON"
        ))
    })?;
    match (answer.access_token, answer.error) {
        (Some(token), None) if status.is_success() => Ok(token),
        (_, error) => {
            tracing::info!(provider = provider.name, %status, error = ?error, "code exchange refused");
            Err(AuthError::CodeRefused)
        }
    }
}
