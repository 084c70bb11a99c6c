//! Signing in and an account's life: registration, passwords, access and
//! refresh tokens, sessions and their revocation on every node, second
//! factors (`mfa/`), recovery by mail (`recovery/`), social sign-in
//! (`oauth/`), and what admins and owners do to accounts (`accounts`). The
//! account record itself is `users`; tokens are checked in `http::auth`.

pub mod accounts;
pub mod error;
pub(crate) mod handlers;
pub mod mfa;
pub(crate) mod new_account;
pub mod oauth;
mod one_time;
pub mod recovery;
pub mod service;
pub mod sessions;
mod store;

use axum::middleware::from_fn_with_state;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::http::auth::{Revocations, Signer};
pub use error::AuthError;

use crate::http::{LimitClass, ratelimit};
use crate::state::AppState;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let auth_limit = from_fn_with_state((state.clone(), LimitClass::Auth), ratelimit::rate_limit);
    // Whatever checks a password or code: limited per address as well as generally.
    let attempts = OpenApiRouter::new()
        .routes(routes!(handlers::register))
        .routes(routes!(handlers::login))
        .routes(routes!(handlers::login_mfa))
        .routes(routes!(handlers::send_code))
        .routes(routes!(mfa::handlers::enable_email))
        .routes(routes!(mfa::handlers::disable))
        .routes(routes!(mfa::handlers::regenerate_recovery_codes))
        .routes(routes!(recovery::handlers::forgot_password))
        .routes(routes!(recovery::handlers::request_verification))
        .routes(routes!(recovery::handlers::request_change))
        .routes(routes!(recovery::handlers::reset_password))
        .routes(routes!(recovery::handlers::change_password))
        .route_layer(auth_limit);
    OpenApiRouter::new()
        .merge(attempts)
        .routes(routes!(handlers::refresh))
        .routes(routes!(handlers::logout))
        .routes(routes!(handlers::logout_all))
        .routes(routes!(handlers::me))
        .routes(routes!(handlers::list_sessions))
        .routes(routes!(handlers::delete_session))
        .routes(routes!(recovery::handlers::verify_email))
        .routes(routes!(recovery::handlers::confirm_change))
        .routes(routes!(oauth::handlers::providers))
        .routes(routes!(oauth::handlers::start))
        .routes(routes!(oauth::handlers::callback))
        .routes(routes!(mfa::handlers::setup_totp))
        .routes(routes!(mfa::handlers::enable_totp))
}
