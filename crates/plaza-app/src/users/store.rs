//! SQL for accounts. Functions take the caller's connection or transaction.
//! Deleted accounts keep their row (others' history points at it) but are
//! invisible to every lookup here.

use plaza_core::{Email, Timestamp, UserId, Username};
use sqlx::AnyConnection;

use super::model::{User, UserRow};
use crate::user_columns;

pub async fn insert(
    conn: &mut AnyConnection,
    user: &User,
    password_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, username, display_name, password_hash, role, \
         email_verified, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.id)
    .bind(&user.email)
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(password_hash)
    .bind(user.role)
    .bind(i64::from(user.email_verified))
    .bind(user.created_at)
    .bind(user.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut AnyConnection, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(User::from))
}

pub async fn find_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE lower(email) = lower($1) AND deleted_at IS NULL"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(User::from))
}

/// What signing in checks, beside the account itself.
#[derive(Debug, sqlx::FromRow)]
pub struct Credentials {
    pub id: UserId,
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<Timestamp>,
    pub banned_at: Option<Timestamp>,
}

/// The sign-in state of the account with this email or username.
pub async fn credentials(
    conn: &mut AnyConnection,
    login: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let column = if login.contains('@') {
        "SELECT id, password_hash, failed_logins, locked_until, banned_at FROM users \
         WHERE lower(email) = lower($1) AND deleted_at IS NULL"
    } else {
        "SELECT id, password_hash, failed_logins, locked_until, banned_at FROM users \
         WHERE lower(username) = lower($1) AND deleted_at IS NULL"
    };
    sqlx::query_as(column)
        .bind(login)
        .fetch_optional(conn)
        .await
}

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

/// Records a failed sign-in; the account locks until `locked_until` when set.
pub async fn record_failed_login(
    conn: &mut AnyConnection,
    id: UserId,
    locked_until: Option<Timestamp>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET failed_logins = failed_logins + 1, \
         locked_until = COALESCE($2, locked_until) WHERE id = $1",
    )
    .bind(id)
    .bind(locked_until)
    .execute(conn)
    .await?;
    Ok(())
}

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

pub async fn username_taken(
    conn: &mut AnyConnection,
    username: &Username,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM users WHERE lower(username) = lower($1)")
            .bind(username)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

pub async fn email_taken(conn: &mut AnyConnection, email: &Email) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}
