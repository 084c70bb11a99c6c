//! SQL for second factors.

use plaza_core::{Timestamp, UserId};
use sqlx::AnyConnection;

#[derive(Debug, sqlx::FromRow)]
pub struct TotpRow {
    pub secret: String,
    pub enabled_at: Option<Timestamp>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn totp(conn: &mut AnyConnection, user: UserId) -> Result<Option<TotpRow>, sqlx::Error> {
    sqlx::query_as("SELECT secret, enabled_at FROM user_totp WHERE user_id = $1")
        .bind(user)
        .fetch_optional(conn)
        .await
}

/// The TOTP secrets not sealed with the current key (`sealed_prefix`):
/// sealed with an older one, or from before sealing.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn stale_totp(
    conn: &mut AnyConnection,
    sealed_prefix: &str,
) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, secret FROM user_totp WHERE secret NOT LIKE $1")
        .bind(format!("{sealed_prefix}%"))
        .fetch_all(conn)
        .await
}

/// Stores `new` in place of `old`; false when the row no longer holds `old`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replace_secret(
    conn: &mut AnyConnection,
    user: UserId,
    old: &str,
    new: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE user_totp SET secret = $3 WHERE user_id = $1 AND secret = $2")
        .bind(user)
        .bind(old)
        .bind(new)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a pending (unconfirmed) secret.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_pending_totp(
    conn: &mut AnyConnection,
    user: UserId,
    secret: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_totp WHERE user_id = $1 AND enabled_at IS NULL")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO user_totp (user_id, secret, created_at) VALUES ($1, $2, $3)")
        .bind(user)
        .bind(secret)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn enable_totp(
    conn: &mut AnyConnection,
    user: UserId,
    step: i64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_totp SET enabled_at = $2, last_step = $3 WHERE user_id = $1")
        .bind(user)
        .bind(now)
        .bind(step)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that `step`'s code was used; false when it (or a later one) was
/// used before, so a code works once (RFC 6238 §5.2).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn use_step(
    conn: &mut AnyConnection,
    user: UserId,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2")
            .bind(user)
            .bind(step)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_email_factor(
    conn: &mut AnyConnection,
    user: UserId,
    on: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET mfa_email = $2 WHERE id = $1")
        .bind(user)
        .bind(i64::from(on))
        .execute(conn)
        .await?;
    Ok(())
}

/// The factors `user` has on, in a stable order (one query: it runs on
/// every sign-in, refresh and `me`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn methods(conn: &mut AnyConnection, user: UserId) -> Result<Vec<String>, sqlx::Error> {
    let mut of = methods_of(conn, &[user]).await?;
    Ok(of.remove(&user).unwrap_or_default())
}

/// The enabled factors of each of `users`, in one statement.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn methods_of(
    conn: &mut AnyConnection,
    users: &[UserId],
) -> Result<std::collections::HashMap<UserId, Vec<String>>, sqlx::Error> {
    if users.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let sql = format!(
        "SELECT u.id, CAST((SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id \
         AND t.enabled_at IS NOT NULL) AS BIGINT), u.mfa_email FROM users u WHERE u.id IN ({})",
        plaza_platform::db::placeholders(1, users.len())
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for user in users {
        query = query.bind(*user);
    }
    let found: Vec<(UserId, i64, i64)> = query.fetch_all(conn).await?;
    Ok(found
        .into_iter()
        .map(|(user, totp, email)| {
            let mut methods = Vec::new();
            if totp > 0 {
                methods.push("totp".to_owned());
            }
            if email != 0 {
                methods.push("email".to_owned());
            }
            (user, methods)
        })
        .collect())
}

/// Turns every factor off and forgets the recovery codes.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear(conn: &mut AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM user_totp WHERE user_id = $1",
        "DELETE FROM recovery_codes WHERE user_id = $1",
        "UPDATE users SET mfa_email = 0 WHERE id = $1",
    ] {
        sqlx::query(sql).bind(user).execute(&mut *conn).await?;
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user: UserId,
    hashes: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(user)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn has_recovery_codes(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM recovery_codes WHERE user_id = $1 LIMIT 1")
            .bind(user)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Uses one recovery code; false when none unused matches.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn use_recovery_code(
    conn: &mut AnyConnection,
    user: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() >= 1)
}
