//! SQL for what signing in reads and writes of an account: its password
//! hash, and the failed attempts and lock of each client address that
//! tried it. Functions take the caller's connection.

use plaza_core::{Timestamp, UserId};
use sqlx::AnyConnection;

use super::model::user_columns;
use super::model::{User, UserRow};

/// An account with what signing in checks beside it, for one address.
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

/// The account with this email or username, and its sign-in state from
/// `address`, in one read.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn credentials(
    conn: &mut AnyConnection,
    login: &str,
    address: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let sql = if login.contains('@') {
        concat!(
            "SELECT ",
            user_columns!(),
            ", password_hash, COALESCE(f.failures, 0) AS failed_logins, \
             f.locked_until AS locked_until FROM users \
             LEFT JOIN login_failures f ON f.user_id = users.id AND f.address = $2 \
             WHERE lower(email) = lower($1) AND deleted_at IS NULL"
        )
    } else {
        concat!(
            "SELECT ",
            user_columns!(),
            ", password_hash, COALESCE(f.failures, 0) AS failed_logins, \
             f.locked_until AS locked_until FROM users \
             LEFT JOIN login_failures f ON f.user_id = users.id AND f.address = $2 \
             WHERE lower(username) = lower($1) AND deleted_at IS NULL"
        )
    };
    let row: Option<CredentialsRow> = sqlx::query_as(sql)
        .bind(login)
        .bind(address)
        .fetch_optional(conn)
        .await?;
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

/// Counts a failed sign-in from `address`; returns that address's
/// failures in a row so far (counted in the database, so parallel attempts
/// each see their own number).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_failed_login(
    conn: &mut AnyConnection,
    id: UserId,
    address: &str,
) -> Result<i64, sqlx::Error> {
    // Run to the end (not the first row), so a failed commit is an error.
    let counts: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO login_failures (user_id, address, failures) VALUES ($1, $2, 1) \
         ON CONFLICT (user_id, address) DO UPDATE SET failures = login_failures.failures + 1 \
         RETURNING failures",
    )
    .bind(id)
    .bind(address)
    .fetch_all(conn)
    .await?;
    counts.first().copied().ok_or(sqlx::Error::RowNotFound)
}

/// Refuses sign-ins to `id` from `address` until `until`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_until(
    conn: &mut AnyConnection,
    id: UserId,
    address: &str,
    until: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_failures SET locked_until = $3 WHERE user_id = $1 AND address = $2")
        .bind(id)
        .bind(address)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the failures of `address` (a correct password from it), or of
/// every address (`None`: a password reset).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reset_failed_logins(
    conn: &mut AnyConnection,
    id: UserId,
    address: Option<&str>,
) -> Result<(), sqlx::Error> {
    match address {
        Some(address) => {
            sqlx::query("DELETE FROM login_failures WHERE user_id = $1 AND address = $2")
                .bind(id)
                .bind(address)
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM login_failures WHERE user_id = $1")
                .bind(id)
                .execute(conn)
                .await?
        }
    };
    Ok(())
}
