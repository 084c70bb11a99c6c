//! Signing up and in: registration, the password check with its throttle
//! and lockout, and what a proof of identity leads to (tokens, or a second
//! factor). Sessions — opening, refreshing, ending — are `sessions.rs`,
//! re-exported here so a transport finds every sign-in use case in one
//! place.

use std::time::Duration;

use plaza_core::UserId;
use plaza_platform::config::Rate;

use super::error::{AuthError, invalid};
pub use super::sessions::{
    Client, Issued, SESSION_ENDED_TOPIC, end_every_session, logout, refresh, revoke, sessions,
};
use super::sessions::{issue, open_and_issue, open_session};
pub use super::store::Session;
use crate::http::LimitClass;
use crate::state::AppState;
use crate::users::{self, NewUser, User};

/// How a correct password (or provider) ends: signed in, or asked for a
/// second factor.
#[derive(Debug)]
pub enum Outcome {
    SignedIn(Box<Issued>),
    SecondFactor {
        /// The challenge, for `POST /api/auth/login/mfa`.
        token: String,
        /// The factors offered, `recovery` last.
        methods: Vec<String>,
    },
}

/// Who is signing in: an email or a username, and a password.
#[derive(Debug)]
pub struct Login {
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: String,
}

/// Creates the account, with its welcome, and its first session together.
#[tracing::instrument(skip_all)]
pub async fn register(
    state: &AppState,
    new: NewUser,
    client: &Client,
) -> Result<Issued, AuthError> {
    let hash = users::hash_password(state, &new).await?;
    let mut work = state.work().await?;
    let user = super::new_account::insert(&mut work, new, hash.as_deref()).await?;
    let (session, refresh) = open_session(state, &mut work, user.id, client).await?;
    super::recovery::service::mail_verification(state, &mut work, &user).await?;
    work.commit().await?;
    tracing::info!(user_id = %user.id, "account registered");
    issue(state, user, Vec::new(), session, refresh).await
}

/// Signs in with a password: the account and its factors are read once;
/// unknown accounts and wrong passwords answer alike and take as long.
#[tracing::instrument(skip_all)]
pub async fn login(state: &AppState, login: Login, client: &Client) -> Result<Outcome, AuthError> {
    let name = match (login.email, login.username) {
        (Some(email), None) => email.trim().to_lowercase(),
        (None, Some(username)) => username.trim().to_lowercase(),
        _ => return Err(invalid("email", "send either `email` or `username`")),
    };
    if name.is_empty() || name.len() > 320 || login.password.len() > 1024 {
        return Err(AuthError::InvalidCredentials);
    }
    throttle(state, &name).await?;
    let result = check_password(state, &name, &login.password, &client.ip).await;
    metrics::counter!("plaza_auth_logins_total", "outcome" => outcome_label(&result)).increment(1);
    let user = result?;
    after_proof(state, user, client).await
}

/// How many per-address budgets one account may draw in all, from every
/// address together.
const ACCOUNT_BUDGETS: u32 = 20;

/// One budget per account across every node and address, twenty times an
/// address's: guessing from one address runs out that address (the `auth`
/// class) long before the owner's sign-ins from elsewhere, and guessing
/// from many addresses stays bounded.
async fn throttle(state: &AppState, name: &str) -> Result<(), AuthError> {
    if !state.config.features.rate_limit {
        return Ok(());
    }
    let per_address = LimitClass::Auth.rate(state);
    let rate = Rate::new(
        per_address.count.saturating_mul(ACCOUNT_BUDGETS),
        per_address.period,
    );
    let decision = state.limiter.check("auth_account", rate, name).await;
    if decision.allowed {
        Ok(())
    } else {
        Err(AuthError::Throttled { decision, rate })
    }
}

fn outcome_label(result: &Result<User, AuthError>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(AuthError::InvalidCredentials) => "invalid",
        Err(AuthError::Locked { .. }) => "locked",
        Err(AuthError::Banned) => "banned",
        Err(_) => "error",
    }
}

/// The account behind `name` when `password` is its password.
async fn check_password(
    state: &AppState,
    name: &str,
    password: &str,
    address: &str,
) -> Result<User, AuthError> {
    let now = state.clock.now();
    // Read where the latest writes show, without taking SQLite's one writer.
    let creds = {
        let mut conn = state.db.fresh().acquire().await?;
        users::service::credentials(&mut conn, name, address).await?
    };
    let Some(creds) = creds else {
        state.passwords.verify_nothing(password).await?;
        return Err(AuthError::InvalidCredentials);
    };
    let id = creds.user.id;
    if let Some(until) = creds.locked_until.filter(|u| *u > now) {
        return Err(AuthError::Locked {
            retry_after: until.duration_since(now),
        });
    }
    let matches = match &creds.password_hash {
        Some(hash) => state.passwords.verify(password, hash).await?,
        None => state.passwords.verify_nothing(password).await?,
    };
    if !matches {
        let mut conn = state.db.writer().acquire().await?;
        let failures = users::service::record_failed_login(&mut conn, id, address).await?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        if let Some(lock) = lock_for(&state.config.auth, failures) {
            let until = now.saturating_add(lock);
            users::service::lock_until(&mut conn, id, address, until).await?;
            tracing::warn!(user_id = %id, address, failures, "address locked out of an account after failed sign-ins");
        }
        return Err(AuthError::InvalidCredentials);
    }
    if creds.user.banned_at.is_some() {
        return Err(AuthError::Banned);
    }
    if creds.failed_logins != 0 || creds.locked_until.is_some() {
        let mut conn = state.db.writer().acquire().await?;
        users::service::reset_failed_logins(&mut conn, id, Some(address)).await?;
    }
    Ok(creds.user)
}

/// After a correct password or a provider's word: tokens, or a challenge
/// when the account has second factors.
#[tracing::instrument(level = "debug", skip_all)]
pub(crate) async fn after_proof(
    state: &AppState,
    user: User,
    client: &Client,
) -> Result<Outcome, AuthError> {
    let factors = super::mfa::service::factors(state, user.id).await?;
    if factors.is_empty() {
        let issued = open_and_issue(state, user, factors, client).await?;
        return Ok(Outcome::SignedIn(Box::new(issued)));
    }
    let token = super::mfa::service::challenge(state, &user, &factors).await?;
    let mut methods = factors;
    methods.push("recovery".into());
    Ok(Outcome::SecondFactor { token, methods })
}

/// The lock after `failures` failed sign-ins in a row: none below the
/// threshold, then the base doubling with each failure, up to the maximum.
pub fn lock_for(config: &plaza_platform::config::AuthConfig, failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(config.lockout_threshold)?;
    let factor = 2u32.saturating_pow(over.min(30));
    Some(
        config
            .lockout_base
            .0
            .saturating_mul(factor)
            .min(config.lockout_max.0),
    )
}

/// The signed-in account, with its second factors.
#[tracing::instrument(skip(state))]
pub async fn me(state: &AppState, user: UserId) -> Result<(User, Vec<String>), AuthError> {
    let found = {
        let mut conn = state.db.fresh().acquire().await?;
        users::service::find(&mut conn, user).await?
    };
    let found = found.ok_or(AuthError::UserNotFound)?;
    let factors = super::mfa::service::factors(state, user).await?;
    Ok((found, factors))
}
