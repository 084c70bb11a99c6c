//! A sign-in session's life: opened for someone who proved who they are,
//! kept alive by rotating refresh tokens, ended by its owner, an admin or
//! a password change. Each use case owns its unit of work; ended sessions
//! reach the other nodes after it commits.

use plaza_core::{SessionId, UserId};
use plaza_platform::Work;
use plaza_platform::secret::{random_token, token_hash};

use super::error::AuthError;
use super::mfa::factors::factors;
use super::store::{self, Session};
use crate::http::AuthUser;
pub use crate::http::auth::revocation::SESSION_ENDED_TOPIC;
use crate::state::AppState;
use crate::users::{self, User};

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

/// Opens a session for a user who has proven who they are.
#[tracing::instrument(level = "debug", skip_all)]
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
    let factors = factors(state, user.id).await?;
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
#[tracing::instrument(level = "debug", skip_all)]
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

/// Opens a session in `work`: its row and first refresh token.
#[tracing::instrument(level = "debug", skip_all)]
pub(super) async fn open_session(
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

/// Signs an access token for `session` and hands out the pair.
#[tracing::instrument(level = "debug", skip_all)]
pub(super) async fn issue(
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
