//! SQL for accounts. Functions take the caller's connection or transaction.

use sqlx::AnyConnection;

use super::model::User;
use plaza_core::{Email, Username};

pub async fn insert(
    conn: &mut AnyConnection,
    user: &User,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, username, display_name, password_hash, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(user.id)
    .bind(&user.email)
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(password_hash)
    .bind(user.role)
    .bind(user.created_at)
    .bind(user.updated_at)
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
