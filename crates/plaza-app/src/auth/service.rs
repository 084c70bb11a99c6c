//! Signing up, in and out, and keeping a session alive. Each use case owns
//! its unit of work; ended sessions reach the other nodes after it commits.

use std::time::Duration;

use plaza_core::{SessionId, UserId};
use plaza_platform::Work;
use plaza_platform::secret::{random_token, token_hash};

use super::error::{AuthError, invalid};
use super::store::{self, Session};
use crate::http::{AuthUser, LimitClass};
use crate::state::AppState;
use crate::users::{self, NewUser, User};

/// Where a sign-in comes from, for the sessions list.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: String,
    pub user_agent: Option<String>,
}

/// What a successful sign-in hands the client: tokens, and the account
/// with its second factors, as its owner sees it.
#[derive(Debug)]
pub struct Issued {
    pub user: User,
    pub factors: Vec<String>,
    pub session_id: SessionId,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

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

/// Bus topic carrying the id of each session that ended.
pub const SESSION_ENDED_TOPIC: &str = "auth.session.ended";

/// Creates the account, with its welcome, and its first session together.
#[tracing::instrument(skip_all)]
pub async fn register(
    state: &AppState,
    new: NewUser,
    client: &Client,
) -> Result<Issued, AuthError> {
    let hash = users::hash_password(state, &new).await?;
    let mut work = state.work().await?;
    let user = super::accounts::insert(&mut work, new, hash.as_deref()).await?;
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
    let result = check_password(state, &name, &login.password).await;
    metrics::counter!("plaza_auth_logins_total", "outcome" => outcome_label(&result)).increment(1);
    let user = result?;
    after_proof(state, user, client).await
}

/// One budget per account, across every node and address.
async fn throttle(state: &AppState, name: &str) -> Result<(), AuthError> {
    if !state.config.features.rate_limit {
        return Ok(());
    }
    let rate = LimitClass::Auth.rate(state);
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
async fn check_password(state: &AppState, name: &str, password: &str) -> Result<User, AuthError> {
    let now = state.clock.now();
    // Read where the latest writes show, without taking SQLite's one writer.
    let creds = {
        let mut conn = state.db.fresh().acquire().await?;
        users::service::credentials(&mut conn, name).await?
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
        let failures = users::service::record_failed_login(&mut conn, id).await?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        if let Some(lock) = lock_for(&state.config.auth, failures) {
            users::service::lock_until(&mut conn, id, now.saturating_add(lock)).await?;
            tracing::warn!(user_id = %id, failures, "account locked after failed sign-ins");
        }
        return Err(AuthError::InvalidCredentials);
    }
    if creds.user.banned_at.is_some() {
        return Err(AuthError::Banned);
    }
    if creds.failed_logins != 0 || creds.locked_until.is_some() {
        let mut conn = state.db.writer().acquire().await?;
        users::service::reset_failed_logins(&mut conn, id).await?;
    }
    Ok(creds.user)
}

/// After a correct password or a provider's word: tokens, or a challenge
/// when the account has second factors.
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

/// Opens a session for a user who has proven who they are.
pub(crate) async fn open_and_issue(
    state: &AppState,
    user: User,
    factors: Vec<String>,
    client: &Client,
) -> Result<Issued, AuthError> {
    let mut work = state.work().await?;
    let (session, refresh) = open_session(state, &mut work, user.id, client).await?;
    work.commit().await?;
    issue(state, user, factors, session, refresh).await
}

/// Rotates a refresh token into a new pair. A token used before is refused
/// and ends its session, except within the grace window while it is still
/// the newest token's parent (two tabs refreshing at once).
#[tracing::instrument(skip_all)]
pub async fn refresh(
    state: &AppState,
    presented: &str,
    client: &Client,
) -> Result<Issued, AuthError> {
    let now = state.clock.now();
    let hash = token_hash(presented);
    let mut work = state.work().await?;
    let row = store::find_refresh(&mut work, &hash)
        .await?
        .filter(|r| {
            r.revoked_at.is_none()
                && r.banned_at.is_none()
                && r.deleted_at.is_none()
                && r.expires_at > now
        })
        .ok_or(AuthError::InvalidRefresh)?;
    if !store::use_refresh(&mut work, &hash, now).await? {
        // Used before: by a parallel request just now, or replayed.
        let used_at = store::find_refresh(&mut work, &hash)
            .await?
            .and_then(|r| r.used_at)
            .unwrap_or(now);
        let grace = state.config.auth.refresh_grace.0;
        let within = !grace.is_zero() && now.duration_since(used_at) <= grace;
        if !within || store::child_used(&mut work, &hash).await? {
            store::revoke_session(&mut work, row.session_id, row.user_id, now, "refresh_reuse")
                .await?;
            announce_ended(state, &mut work, vec![row.session_id]);
            work.commit().await?;
            tracing::warn!(session_id = %row.session_id, "refresh token reused; session ended");
            metrics::counter!("plaza_auth_refresh_reuse_total").increment(1);
            return Err(AuthError::RefreshReused);
        }
    }
    let refresh = random_token()?;
    let expires = now.saturating_add(state.config.auth.refresh_ttl.0);
    let new_hash = token_hash(&refresh);
    store::insert_refresh(
        &mut work,
        &new_hash,
        row.session_id,
        Some(&hash),
        now,
        expires,
    )
    .await?;
    store::touch_session(&mut work, row.session_id, now, expires, &client.ip).await?;
    let user = users::service::find(&mut work, row.user_id)
        .await?
        .ok_or(AuthError::InvalidRefresh)?;
    work.commit().await?;
    let factors = super::mfa::service::factors(state, user.id).await?;
    issue(state, user, factors, row.session_id, refresh).await
}

/// Ends the caller's own session (signing out).
#[tracing::instrument(skip_all)]
pub async fn logout(state: &AppState, me: AuthUser) -> Result<(), AuthError> {
    end_session(state, me.user_id, me.session_id, "logout").await?;
    Ok(())
}

/// Ends one of the caller's sessions (another device).
#[tracing::instrument(skip(state, me))]
pub async fn revoke(state: &AppState, me: AuthUser, session: SessionId) -> Result<(), AuthError> {
    if end_session(state, me.user_id, session, "revoked").await? {
        Ok(())
    } else {
        Err(AuthError::SessionNotFound)
    }
}

/// Ends one session of `user`; false when none was open by that id.
async fn end_session(
    state: &AppState,
    user: UserId,
    session: SessionId,
    reason: &str,
) -> Result<bool, AuthError> {
    let now = state.clock.now();
    let mut work = state.work_one().await?;
    if !store::revoke_session(&mut work, session, user, now, reason).await? {
        return Ok(false);
    }
    announce_ended(state, &mut work, vec![session]);
    work.commit().await?;
    Ok(true)
}

/// Ends every session of `user`.
#[tracing::instrument(skip(state))]
pub async fn end_every_session(state: &AppState, user: UserId) -> Result<(), AuthError> {
    let mut work = state.work().await?;
    end_all_sessions(state, &mut work, user, None, "logout_all").await?;
    Ok(work.commit().await?)
}

/// Ends every session of `user` but `keep` (the caller's, on a password
/// change), in the caller's unit of work; the sessions' tokens stop working
/// on every node once it commits.
pub(crate) async fn end_all_sessions<'a>(
    state: &'a AppState,
    work: &mut Work<'a>,
    user: UserId,
    keep: Option<SessionId>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let now = work.now();
    let ended = store::revoke_user_sessions(work, user, keep, now, reason).await?;
    announce_ended(state, work, ended);
    Ok(())
}

/// Once `work` commits: ended sessions' access tokens fail on every node,
/// and live connections of those sessions are told to close.
fn announce_ended<'a>(state: &'a AppState, work: &mut Work<'a>, sessions: Vec<SessionId>) {
    if sessions.is_empty() {
        return;
    }
    let revoked = sessions.clone();
    work.after_commit(async move {
        for session in revoked {
            state.auth.revocations.revoke(session).await;
        }
    });
    for session in sessions {
        work.publish(SESSION_ENDED_TOPIC, bytes::Bytes::from(session.to_string()));
    }
}

/// The account's open sessions.
#[tracing::instrument(skip(state))]
pub async fn sessions(state: &AppState, user: UserId) -> Result<Vec<Session>, AuthError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::list_sessions(&mut conn, user, state.clock.now()).await?)
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

async fn open_session(
    state: &AppState,
    work: &mut Work<'_>,
    user: UserId,
    client: &Client,
) -> Result<(SessionId, String), AuthError> {
    let now = work.now();
    let expires = now.saturating_add(state.config.auth.refresh_ttl.0);
    let session = Session {
        id: SessionId::new(),
        user_id: user,
        user_agent: client.user_agent.clone(),
        ip: Some(client.ip.clone()),
        created_at: now,
        last_used_at: now,
        expires_at: expires,
    };
    store::insert_session(work, &session).await?;
    let refresh = random_token()?;
    store::insert_refresh(work, &token_hash(&refresh), session.id, None, now, expires).await?;
    Ok((session.id, refresh))
}

async fn issue(
    state: &AppState,
    user: User,
    factors: Vec<String>,
    session: SessionId,
    refresh_token: String,
) -> Result<Issued, AuthError> {
    let ttl = state.config.auth.access_ttl.0;
    let now = state.clock.now();
    let signer = state
        .auth
        .signer(&state.db, &state.config.auth, now)
        .await?;
    let access_token = signer
        .issue(user.id, user.role, session, now, ttl)
        .map_err(|e| anyhow::anyhow!("cannot sign an access token: {e}"))?;
    Ok(Issued {
        user,
        factors,
        session_id: session,
        access_token,
        refresh_token,
        expires_in: ttl.as_secs(),
    })
}
