//! Signing in: registration, passwords, access and refresh tokens, sessions
//! and their revocation on every node. Accounts themselves live in `users`.

mod email_change;
pub mod extract;
pub(crate) mod handlers;
pub mod jwt;
pub mod mfa;
pub mod oauth;
pub mod one_time;
pub mod recovery;
mod revocation;
pub mod secret;
pub mod service;
mod store;

use axum::middleware::from_fn_with_state;
use tokio::sync::OnceCell;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use extract::{AdminUser, AuthUser, MaybeAuthUser, authenticate};
pub use jwt::Signer;
pub use revocation::Revocations;

use crate::http::{LimitClass, ratelimit};
use crate::state::AppState;

/// The auth machinery a node holds: its signing key (loaded on first use,
/// after migrations) and the revocation list.
#[derive(Debug)]
pub struct AuthKit {
    signer: OnceCell<Signer>,
    pub revocations: Revocations,
}

impl AuthKit {
    pub fn new(cache: plaza_platform::cache::SharedCache, access_ttl: std::time::Duration) -> Self {
        Self {
            signer: OnceCell::new(),
            revocations: Revocations::new(cache, access_ttl),
        }
    }

    pub async fn signer(&self, state: &AppState) -> Result<&Signer, sqlx::Error> {
        self.signer
            .get_or_try_init(|| Signer::load(&state.db, &state.config.auth, state.clock.now()))
            .await
    }
}

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
