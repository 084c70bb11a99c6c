//! SQL for what signing in reads and writes of an account: its password
//! hash, failed attempts and lock. Functions take the caller's connection.

use plaza_core::{Timestamp, UserId};
use sqlx::AnyConnection;

use super::model::user_columns;
use super::model::{User, UserRow};

/// An account with what signing in checks beside it.
#[derive(Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: Option<String>,
    failed_logins: i64,
    locked_until: Option<Timestamp>,
}

/// The account with this email or username, and its sign-in state, in
/// one read.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn credentials(
    conn: &mut AnyConnection,
    login: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let sql = if login.contains('@') {
        concat!(
            "SELECT ",
            user_columns!(),
            ", password_hash, failed_logins, locked_until FROM users \
             WHERE lower(email) = lower($1) AND deleted_at IS NULL"
        )
    } else {
        concat!(
            "SELECT ",
            user_columns!(),
            ", password_hash, failed_logins, locked_until FROM users \
             WHERE lower(username) = lower($1) AND deleted_at IS NULL"
        )
    };
    let row: Option<CredentialsRow> = sqlx::query_as(sql).bind(login).fetch_optional(conn).await?;
    Ok(row.map(|r| Credentials {
        user: r.user.into(),
        password_hash: r.password_hash,
        failed_logins: r.failed_logins,
        locked_until: r.locked_until,
    }))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn password_hash(
    conn: &mut AnyConnection,
    id: UserId,
) -> Result<Option<String>, sqlx::Error> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(hash.flatten())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_password_hash(
    conn: &mut AnyConnection,
    id: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts a failed sign-in; returns the failures in a row so far (counted
/// in the database, so parallel attempts each see their own number).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_failed_login(conn: &mut AnyConnection, id: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_until(
    conn: &mut AnyConnection,
    id: UserId,
    until: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET locked_until = $2 WHERE id = $1")
        .bind(id)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn reset_failed_logins(conn: &mut AnyConnection, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = NULL \
         WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
