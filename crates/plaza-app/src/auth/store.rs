//! SQL for sessions and their refresh tokens.

use plaza_core::{SessionId, Timestamp, UserId};
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_session(conn: &mut AnyConnection, s: &Session) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, user_agent, ip, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.id)
    .bind(s.user_id)
    .bind(&s.user_agent)
    .bind(&s.ip)
    .bind(s.created_at)
    .bind(s.last_used_at)
    .bind(s.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_refresh(
    conn: &mut AnyConnection,
    token_hash: &str,
    session: SessionId,
    parent_hash: Option<&str>,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, parent_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(session)
    .bind(parent_hash)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A presented refresh token with its session and account.
#[derive(Debug, sqlx::FromRow)]
pub struct RefreshRow {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub banned_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_refresh(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<RefreshRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.session_id, s.user_id, r.expires_at, r.used_at, s.revoked_at, \
         u.banned_at, u.deleted_at \
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
         JOIN users u ON u.id = s.user_id WHERE r.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

/// Marks a token used; false when another request used it first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn use_refresh(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a token rotated out of `token_hash` has itself been used: then
/// `token_hash` is no longer the newest token's parent.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn child_used(conn: &mut AnyConnection, token_hash: &str) -> Result<bool, sqlx::Error> {
    let used: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM refresh_tokens WHERE parent_hash = $1 AND used_at IS NOT NULL LIMIT 1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    Ok(used.is_some())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn touch_session(
    conn: &mut AnyConnection,
    id: SessionId,
    now: Timestamp,
    expires_at: Timestamp,
    ip: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_used_at = $2, expires_at = $3, ip = $4 WHERE id = $1")
        .bind(id)
        .bind(now)
        .bind(expires_at)
        .bind(ip)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends one session; false when it was not the user's or already ended.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_session(
    conn: &mut AnyConnection,
    id: SessionId,
    user: UserId,
    now: Timestamp,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $4 \
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(user)
    .bind(now)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every open session of `user` except `keep`; returns those ended.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_user_sessions(
    conn: &mut AnyConnection,
    user: UserId,
    keep: Option<SessionId>,
    now: Timestamp,
    reason: &str,
) -> Result<Vec<SessionId>, sqlx::Error> {
    let ids: Vec<SessionId> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user)
            .fetch_all(&mut *conn)
            .await?;
    let ids: Vec<SessionId> = ids.into_iter().filter(|id| Some(*id) != keep).collect();
    for id in &ids {
        revoke_session(conn, *id, user, now, reason).await?;
    }
    Ok(ids)
}

/// Open, unexpired sessions, most recently used first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_sessions(
    conn: &mut AnyConnection,
    user: UserId,
    now: Timestamp,
) -> Result<Vec<Session>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, user_agent, ip, created_at, last_used_at, expires_at FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
         ORDER BY last_used_at DESC, id DESC",
    )
    .bind(user)
    .bind(now)
    .fetch_all(conn)
    .await
}
