//! Providers from configuration: presets for Google and GitHub, any OpenID
//! Connect issuer through its discovery document, explicit endpoints
//! overriding either.

use plaza_platform::config::{OAuthConfig, OAuthProviderConfig};
use serde::Deserialize;

use crate::auth::error::AuthError;

/// What the flow needs to talk to one provider.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: &'static str,
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub scopes: String,
    /// GitHub's user API answers its own shape (and may hide the email).
    pub github: bool,
}

struct Preset {
    issuer: Option<&'static str>,
    authorize: Option<&'static str>,
    token: Option<&'static str>,
    userinfo: Option<&'static str>,
    scopes: &'static str,
}

fn preset(name: &str) -> Preset {
    match name {
        "google" => Preset {
            issuer: Some("https://accounts.google.com"),
            authorize: Some("https://accounts.google.com/o/oauth2/v2/auth"),
            token: Some("https://oauth2.googleapis.com/token"),
            userinfo: Some("https://openidconnect.googleapis.com/v1/userinfo"),
            scopes: "openid email profile",
        },
        "github" => Preset {
            issuer: None,
            authorize: Some("https://github.com/login/oauth/authorize"),
            token: Some("https://github.com/login/oauth/access_token"),
            userinfo: Some("https://api.github.com/user"),
            scopes: "read:user user:email",
        },
        _ => Preset {
            issuer: None,
            authorize: None,
            token: None,
            userinfo: None,
            scopes: "openid email profile",
        },
    }
}

#[derive(Deserialize)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
}

/// The provider named in the path, when configured; 404 otherwise.
pub async fn resolve(
    config: &OAuthConfig,
    http: &reqwest::Client,
    name: &str,
) -> Result<Provider, AuthError> {
    let (name, c) = configured(config, name)?;
    let (Some(client_id), Some(secret)) = (&c.client_id, &c.client_secret) else {
        return Err(AuthError::NoProvider(format!(
            "sign-in with `{name}` is not configured"
        )));
    };
    let p = preset(name);
    let (authorize_url, token_url, userinfo_url) = endpoints(http, name, c, &p).await?;
    let scopes = if c.scopes.0.is_empty() {
        p.scopes.to_owned()
    } else {
        c.scopes.0.join(" ")
    };
    Ok(Provider {
        name,
        client_id: client_id.clone(),
        client_secret: secret.expose().to_owned(),
        authorize_url,
        token_url,
        userinfo_url,
        scopes,
        github: name == "github",
    })
}

/// The provider a path names, with its settings.
/// The providers with a client id and secret, in a stable order.
pub fn available(config: &OAuthConfig) -> Vec<&'static str> {
    ["google", "github", "oidc"]
        .into_iter()
        .filter(|name| {
            configured(config, name)
                .is_ok_and(|(_, c)| c.client_id.is_some() && c.client_secret.is_some())
        })
        .collect()
}

fn configured<'c>(
    config: &'c OAuthConfig,
    name: &str,
) -> Result<(&'static str, &'c OAuthProviderConfig), AuthError> {
    match name {
        "google" => Ok(("google", &config.google)),
        "github" => Ok(("github", &config.github)),
        "oidc" => Ok(("oidc", &config.oidc)),
        _ => Err(AuthError::NoProvider(format!(
            "no sign-in provider `{name}`"
        ))),
    }
}

/// The authorize, token and userinfo URLs: configured ones first, then
/// the issuer's discovery document, then the preset's.
async fn endpoints(
    http: &reqwest::Client,
    name: &str,
    c: &OAuthProviderConfig,
    p: &Preset,
) -> Result<(String, String, String), AuthError> {
    let mut authorize = c.authorize_url.clone().or(p.authorize.map(str::to_owned));
    let mut token = c.token_url.clone().or(p.token.map(str::to_owned));
    let mut userinfo = c.userinfo_url.clone().or(p.userinfo.map(str::to_owned));
    // A configured issuer is asked for its endpoints (explicit ones still win).
    let issuer = c.issuer.clone().or(if name == "oidc" {
        None
    } else {
        p.issuer.map(str::to_owned)
    });
    if c.issuer.is_some() || authorize.is_none() || token.is_none() || userinfo.is_none() {
        let Some(issuer) = issuer else {
            return Err(AuthError::ProviderUnavailable(format!(
                "sign-in with `{name}` has no endpoints configured"
            )));
        };
        let found = discover(http, &issuer).await?;
        authorize = c
            .authorize_url
            .clone()
            .or(Some(found.authorization_endpoint));
        token = c.token_url.clone().or(Some(found.token_endpoint));
        userinfo = c
            .userinfo_url
            .clone()
            .or(found.userinfo_endpoint)
            .or(userinfo);
    }
    match (authorize, token, userinfo) {
        (Some(a), Some(t), Some(u)) => Ok((a, t, u)),
        _ => Err(AuthError::ProviderUnavailable(format!(
            "`{name}` publishes no userinfo endpoint"
        ))),
    }
}

async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Discovery, AuthError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let unreachable = |e: &dyn std::fmt::Display| {
        tracing::warn!(issuer, error = %e, "OpenID discovery failed");
        AuthError::ProviderUnavailable(
            "the sign-in provider cannot be reached; try again later".into(),
        )
    };
    let res = http.get(&url).send().await.map_err(|e| unreachable(&e))?;
    if !res.status().is_success() {
        return Err(unreachable(&format!("HTTP {}", res.status())));
    }
    res.json().await.map_err(|e| unreachable(&e))
}
