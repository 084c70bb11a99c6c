//! Who the provider says the user is: OpenID Connect's userinfo claims, or
//! GitHub's user API (whose email may need a second call).

use axum::http::header;
use serde::Deserialize;

use super::Identity;
use super::provider::Provider;
use crate::auth::error::AuthError;

#[derive(Deserialize)]
struct OidcUser {
    sub: String,
    email: Option<String>,
    #[serde(default)]
    email_verified: serde_json::Value,
    name: Option<String>,
    preferred_username: Option<String>,
}

#[derive(Deserialize)]
struct GithubUser {
    id: serde_json::Value,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

fn unreachable(provider: &Provider, e: &dyn std::fmt::Display) -> AuthError {
    tracing::warn!(provider = provider.name, error = %e, "userinfo failed");
    AuthError::ProviderUnavailable(
        "the sign-in provider did not say who you are; try again later".into(),
    )
}

async fn get<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    provider: &Provider,
    url: &str,
    token: &str,
) -> Result<T, AuthError> {
    let res = http
        .get(url)
        .bearer_auth(token)
        .header(header::ACCEPT, "application/json")
        // GitHub refuses requests without one.
        .header(header::USER_AGENT, "plaza")
        .send()
        .await
        .map_err(|e| unreachable(provider, &e))?;
    if !res.status().is_success() {
        return Err(unreachable(provider, &format!("HTTP {}", res.status())));
    }
    res.json().await.map_err(|e| unreachable(provider, &e))
}

pub async fn fetch(
    http: &reqwest::Client,
    provider: &Provider,
    token: &str,
) -> Result<Identity, AuthError> {
    if provider.github {
        let user: GithubUser = get(http, provider, &provider.userinfo_url, token).await?;
        let emails_url = format!("{}/emails", provider.userinfo_url.trim_end_matches('/'));
        let emails: Vec<GithubEmail> = get(http, provider, &emails_url, token)
            .await
            .unwrap_or_default();
        let primary = emails.into_iter().find(|e| e.primary && e.verified);
        let subject = match user.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        return Ok(Identity {
            provider: provider.name,
            subject,
            email_verified: primary.is_some(),
            email: primary.map(|e| e.email),
            name: user.name,
            username: Some(user.login),
        });
    }
    let user: OidcUser = get(http, provider, &provider.userinfo_url, token).await?;
    // Some providers send the flag as a string.
    let verified = matches!(&user.email_verified, serde_json::Value::Bool(true))
        || user.email_verified.as_str() == Some("true");
    Ok(Identity {
        provider: provider.name,
        subject: user.sub,
        email: user.email,
        email_verified: verified,
        name: user.name,
        username: user.preferred_username,
    })
}
