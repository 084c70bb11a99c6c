//! Signing in: registration, passwords, access and refresh tokens, sessions
//! and their revocation on every node. Accounts themselves live in `users`.

mod email_change;
pub(crate) mod handlers;
pub mod mfa;
pub mod oauth;
pub mod one_time;
pub mod recovery;
pub mod service;
mod store;

use axum::middleware::from_fn_with_state;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::http::auth::{AdminUser, AuthUser, MaybeAuthUser, Revocations, Signer};

use crate::http::{LimitClass, ratelimit};
use crate::state::AppState;

/// Forgets an account's secrets (factors, pending tokens) when it is deleted.
pub async fn forget_user(
    conn: &mut sqlx::AnyConnection,
    user: plaza_core::UserId,
) -> Result<(), sqlx::Error> {
    mfa::forget(conn, user).await?;
    sqlx::query("DELETE FROM oauth_identities WHERE user_id = $1")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM one_time_tokens WHERE user_id = $1")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

/// The second factors a user has on (`totp`, `email`).
pub async fn two_factor_methods(
    state: &AppState,
    user: plaza_core::UserId,
) -> Result<Vec<String>, crate::http::ApiError> {
    Ok(mfa::enabled_methods(state, user).await?)
}

/// [`two_factor_methods`] of a page of accounts, in one query.
pub async fn two_factor_methods_of(
    state: &AppState,
    users: &[plaza_core::UserId],
) -> Result<std::collections::HashMap<plaza_core::UserId, Vec<String>>, crate::http::ApiError> {
    Ok(mfa::enabled_methods_of(state, users).await?)
}

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let auth_limit = from_fn_with_state((state.clone(), LimitClass::Auth), ratelimit::rate_limit);
    // Whatever checks a password or code: limited per address as well as generally.
    let attempts = OpenApiRouter::new()
        .routes(routes!(handlers::register))
        .routes(routes!(handlers::login))
        .routes(routes!(mfa::handlers::login_mfa))
        .routes(routes!(mfa::handlers::send_code))
        .routes(routes!(mfa::handlers::enable_email))
        .routes(routes!(mfa::handlers::disable))
        .routes(routes!(mfa::handlers::regenerate_recovery_codes))
        .routes(routes!(recovery::forgot_password))
        .routes(routes!(recovery::request_verification))
        .routes(routes!(email_change::request_change))
        .routes(routes!(recovery::reset_password))
        .routes(routes!(recovery::change_password))
        .route_layer(auth_limit);
    OpenApiRouter::new()
        .merge(attempts)
        .routes(routes!(handlers::refresh))
        .routes(routes!(handlers::logout))
        .routes(routes!(handlers::logout_all))
        .routes(routes!(handlers::me))
        .routes(routes!(handlers::list_sessions))
        .routes(routes!(handlers::delete_session))
        .routes(routes!(recovery::verify_email))
        .routes(routes!(email_change::confirm_change))
        .routes(routes!(oauth::flow::start))
        .routes(routes!(oauth::flow::callback))
        .routes(routes!(mfa::handlers::setup_totp))
        .routes(routes!(mfa::handlers::enable_totp))
}
