//! Sign-in with OAuth 2.0 / OpenID Connect providers (seeds 001, 004).

pub(crate) mod account;
pub(crate) mod handlers;
mod provider;
pub mod service;
mod store;
mod userinfo;

/// A person as a provider describes them.
#[derive(Debug, Clone)]
pub struct Identity {
    pub provider: &'static str,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub username: Option<String>,
}
