//! Single-use tokens: made, mailed or handed out, and consumed once before
//! they expire. Only their hash is stored.

use std::time::Duration;

use plaza_core::{Timestamp, UserId};
use sqlx::AnyConnection;

use plaza_platform::secret::{random_token, token_hash};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    Invite,
    MfaLogin,
    OAuthState,
    ChangeEmail,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::Invite => "invite",
            Self::MfaLogin => "mfa_login",
            Self::OAuthState => "oauth_state",
            Self::ChangeEmail => "change_email",
        }
    }
}

/// A token's row, found by its secret.
#[derive(Debug, sqlx::FromRow)]
pub struct Found {
    pub id: String,
    pub user_id: Option<UserId>,
    pub purpose: String,
    pub data: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Makes a token; returns the secret to hand out.
pub async fn issue(
    conn: &mut AnyConnection,
    user: Option<UserId>,
    purpose: Purpose,
    data: &serde_json::Value,
    now: Timestamp,
    ttl: Duration,
) -> Result<String, sqlx::Error> {
    let token = random_token().map_err(|e| sqlx::Error::Protocol(format!("random: {e}")))?;
    sqlx::query(
        "INSERT INTO one_time_tokens (id, token_hash, user_id, purpose, data, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(token_hash(&token))
    .bind(user)
    .bind(purpose.as_str())
    .bind(data.to_string())
    .bind(now)
    .bind(now.saturating_add(ttl))
    .execute(conn)
    .await?;
    Ok(token)
}

/// The live token behind `secret` for one of `purposes`, without using it.
pub async fn find(
    conn: &mut AnyConnection,
    secret: &str,
    purposes: &[Purpose],
    now: Timestamp,
) -> Result<Option<Found>, sqlx::Error> {
    let found: Option<Found> = sqlx::query_as(
        "SELECT id, user_id, purpose, data, expires_at, used_at FROM one_time_tokens \
         WHERE token_hash = $1",
    )
    .bind(token_hash(secret))
    .fetch_optional(conn)
    .await?;
    Ok(found.filter(|f| {
        f.used_at.is_none()
            && f.expires_at > now
            && purposes.iter().any(|p| p.as_str() == f.purpose)
    }))
}

/// Uses the token; false when another request used it first.
pub async fn consume(
    conn: &mut AnyConnection,
    id: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE one_time_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a wrong code against the token; returns the attempts so far.
pub async fn count_attempt(conn: &mut AnyConnection, id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE one_time_tokens SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar("SELECT attempts FROM one_time_tokens WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Retires every unused token of `user` for `purposes` (a new one replaces them).
pub async fn retire(
    conn: &mut AnyConnection,
    user: UserId,
    purposes: &[Purpose],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    for p in purposes {
        sqlx::query(
            "UPDATE one_time_tokens SET used_at = $3 \
             WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        )
        .bind(user)
        .bind(p.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Replaces a token's data (a challenge's latest email code).
pub async fn set_data(
    conn: &mut AnyConnection,
    id: &str,
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE one_time_tokens SET data = $2 WHERE id = $1")
        .bind(id)
        .bind(data.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes every token of `user` (a deleted account).
pub async fn forget(conn: &mut AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM one_time_tokens WHERE user_id = $1")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}
