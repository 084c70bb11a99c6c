//! Signing up, in and out, and keeping a session alive: each use case owns
//! its transaction; revocations reach the other nodes after it commits.

use std::time::Duration;

use plaza_core::{Role, SessionId, UserId};

use super::store::{self, Session};
use crate::state::AppState;
use crate::users::{self, CreateUserError, NewUser, User};
use plaza_platform::secret::{random_token, token_hash};

/// Where a sign-in comes from, for the sessions list.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: String,
    pub user_agent: Option<String>,
}

/// What a successful sign-in hands the client.
#[derive(Debug)]
pub struct Issued {
    pub user_id: UserId,
    /// The account, when the use case already read it (saves a lookup).
    pub user: Option<User>,
    pub session_id: SessionId,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid email, username or password")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again later")]
    Locked { retry_after: Duration },
    #[error("this account is suspended")]
    Banned,
    #[error("the refresh token is invalid or expired; sign in again")]
    InvalidRefresh,
    #[error("this refresh token was already used; the session has been ended for safety")]
    RefreshReused,
    #[error(transparent)]
    Create(#[from] CreateUserError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<crate::users::password::HashError> for AuthError {
    fn from(e: crate::users::password::HashError) -> Self {
        Self::Internal(e.into())
    }
}

/// Creates the account and its first session together.
pub async fn register(
    state: &AppState,
    new: NewUser,
    client: &Client,
) -> Result<Issued, AuthError> {
    let hash = users::hash_password(state, &new).await?;
    let mut tx = state.work().await?;
    let user = users::insert_user(&mut tx, new, hash.as_deref()).await?;
    let (session, refresh) = open_session(state, &mut tx, user.id, client).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "account registered");
    let mut issued = issue(state, &(user.id, user.role), session, refresh).await?;
    issued.user = Some(user);
    Ok(issued)
}

/// Opens a session for a user who has proven who they are.
pub async fn open_and_issue(
    state: &AppState,
    user: UserId,
    client: &Client,
) -> Result<Issued, AuthError> {
    let mut tx = state.db.begin().await?;
    let found = users::store::find(&mut tx, user)
        .await?
        .ok_or(AuthError::InvalidCredentials)?;
    let (session, refresh) = open_session(state, &mut tx, user, client).await?;
    tx.commit().await?;
    let mut issued = issue(state, &(user, found.role), session, refresh).await?;
    issued.user = Some(found);
    Ok(issued)
}

/// The account behind `login` when `password` is its password. Unknown
/// accounts and wrong passwords answer alike and take as long.
pub async fn authenticate(
    state: &AppState,
    login: &str,
    password: &str,
) -> Result<UserId, AuthError> {
    let result = check_credentials(state, login, password).await;
    let outcome = match &result {
        Ok(_) => "success",
        Err(AuthError::InvalidCredentials) => "invalid",
        Err(AuthError::Locked { .. }) => "locked",
        Err(AuthError::Banned) => "banned",
        Err(_) => "error",
    };
    metrics::counter!("plaza_auth_logins_total", "outcome" => outcome).increment(1);
    result
}

async fn check_credentials(
    state: &AppState,
    login: &str,
    password: &str,
) -> Result<UserId, AuthError> {
    let now = state.clock.now();
    // Read where the latest writes show, without taking SQLite's one writer.
    let mut conn = state.db.fresh().acquire().await?;
    let Some(creds) = users::store::credentials(&mut conn, login).await? else {
        drop(conn);
        state.passwords.verify_nothing(password).await?;
        return Err(AuthError::InvalidCredentials);
    };
    drop(conn);
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
        let failures = users::store::record_failed_login(&mut conn, creds.id).await?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        if let Some(lock) = lock_for(&state.config.auth, failures) {
            users::store::lock_until(&mut conn, creds.id, now.saturating_add(lock)).await?;
            tracing::warn!(user_id = %creds.id, failures, "account locked after failed sign-ins");
        }
        return Err(AuthError::InvalidCredentials);
    }
    if creds.banned_at.is_some() {
        return Err(AuthError::Banned);
    }
    if creds.failed_logins != 0 || creds.locked_until.is_some() {
        let mut conn = state.db.writer().acquire().await?;
        users::store::reset_failed_logins(&mut conn, creds.id).await?;
    }
    Ok(creds.id)
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

/// Rotates a refresh token into a new pair. A token used before is refused
/// and ends its session, except within the grace window while it is still
/// the newest token's parent (two tabs refreshing at once).
pub async fn refresh(
    state: &AppState,
    presented: &str,
    client: &Client,
) -> Result<Issued, AuthError> {
    let now = state.clock.now();
    let hash = token_hash(presented);
    let mut tx = state.db.begin().await?;
    let Some(row) = store::find_refresh(&mut tx, &hash).await? else {
        return Err(AuthError::InvalidRefresh);
    };
    if row.revoked_at.is_some()
        || row.banned_at.is_some()
        || row.deleted_at.is_some()
        || row.expires_at <= now
    {
        return Err(AuthError::InvalidRefresh);
    }
    if !store::use_refresh(&mut tx, &hash, now).await? {
        // Used before: by a parallel request just now, or replayed.
        let used_at = store::find_refresh(&mut tx, &hash)
            .await?
            .and_then(|r| r.used_at)
            .unwrap_or(now);
        let grace = state.config.auth.refresh_grace.0;
        let within = !grace.is_zero() && now.duration_since(used_at) <= grace;
        if !within || store::child_used(&mut tx, &hash).await? {
            store::revoke_session(&mut tx, row.session_id, row.user_id, now, "refresh_reuse")
                .await?;
            tx.commit().await?;
            after_revoke(state, &[row.session_id]).await;
            tracing::warn!(session_id = %row.session_id, "refresh token reused; session ended");
            metrics::counter!("plaza_auth_refresh_reuse_total").increment(1);
            return Err(AuthError::RefreshReused);
        }
    }
    let refresh = random_token().map_err(|e| anyhow::anyhow!("random: {e}"))?;
    let expires = now.saturating_add(state.config.auth.refresh_ttl.0);
    store::insert_refresh(
        &mut tx,
        &token_hash(&refresh),
        row.session_id,
        Some(&hash),
        now,
        expires,
    )
    .await?;
    store::touch_session(&mut tx, row.session_id, now, expires, &client.ip).await?;
    tx.commit().await?;
    issue(state, &(row.user_id, row.role), row.session_id, refresh).await
}

/// Ends one session of `user`; false when there was none open by that id.
pub async fn end_session(
    state: &AppState,
    user: UserId,
    session: SessionId,
    reason: &str,
) -> Result<bool, AuthError> {
    let now = state.clock.now();
    let mut conn = state.db.writer().acquire().await?;
    let ended = store::revoke_session(&mut conn, session, user, now, reason).await?;
    drop(conn);
    if ended {
        after_revoke(state, &[session]).await;
    }
    Ok(ended)
}

/// Ends every session of `user` but `keep` (the caller's, on a password
/// change); inside the caller's transaction. Call [`after_revoke`] with the
/// result once it commits.
pub async fn end_all_sessions(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    keep: Option<SessionId>,
    reason: &str,
) -> Result<Vec<SessionId>, sqlx::Error> {
    store::revoke_user_sessions(conn, user, keep, state.clock.now(), reason).await
}

/// Makes ended sessions' access tokens fail on every node, and tells live
/// connections of those sessions to close.
pub async fn after_revoke(state: &AppState, sessions: &[SessionId]) {
    for session in sessions {
        state.auth.revocations.revoke(*session).await;
        let payload = bytes::Bytes::from(session.to_string());
        if let Err(e) = state.bus.publish(SESSION_ENDED_TOPIC, payload).await {
            tracing::warn!(error = %e, "cannot announce an ended session");
        }
    }
}

/// Bus topic carrying the id of each session that ended.
pub const SESSION_ENDED_TOPIC: &str = "auth.session.ended";

pub async fn list_sessions(state: &AppState, user: UserId) -> Result<Vec<Session>, AuthError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::list_sessions(&mut conn, user, state.clock.now()).await?)
}

async fn open_session(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    user: UserId,
    client: &Client,
) -> Result<(SessionId, String), AuthError> {
    let now = state.clock.now();
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
    store::insert_session(tx, &session).await?;
    let refresh = random_token().map_err(|e| anyhow::anyhow!("random: {e}"))?;
    store::insert_refresh(tx, &token_hash(&refresh), session.id, None, now, expires).await?;
    Ok((session.id, refresh))
}

async fn issue(
    state: &AppState,
    &(user, role): &(UserId, Role),
    session: SessionId,
    refresh_token: String,
) -> Result<Issued, AuthError> {
    let ttl = state.config.auth.access_ttl.0;
    let signer = state
        .auth
        .signer(&state.db, &state.config.auth, state.clock.now())
        .await?;
    let access_token = signer
        .issue(user, role, session, state.clock.now(), ttl)
        .map_err(|e| anyhow::anyhow!("cannot sign an access token: {e}"))?;
    Ok(Issued {
        user_id: user,
        user: None,
        session_id: session,
        access_token,
        refresh_token,
        expires_in: ttl.as_secs(),
    })
}
