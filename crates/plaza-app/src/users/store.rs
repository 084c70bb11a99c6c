//! SQL for accounts. Functions take the caller's connection or transaction.
//! Deleted accounts keep their row (others' history points at it) but are
//! invisible to every lookup here.

use plaza_core::{Email, Timestamp, UserId, Username};
use sqlx::AnyConnection;

use super::model::user_columns;
use super::model::{User, UserRow};

#[tracing::instrument(level = "debug", skip_all)]
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

/// Someone's time zone: the profile's IANA name, and the zone it names.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn time_zone(
    conn: &mut AnyConnection,
    id: UserId,
) -> Result<(String, jiff::tz::TimeZone), sqlx::Error> {
    let name: String = sqlx::query_scalar("SELECT timezone FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    let zone = super::fields::zone(&name);
    Ok((name, zone))
}

/// Which of `ids` are live (not deleted) accounts, in one query.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn live(conn: &mut AnyConnection, ids: &[UserId]) -> Result<Vec<UserId>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id FROM users WHERE deleted_at IS NULL AND id IN ({})",
        plaza_platform::db::placeholders(1, ids.len())
    );
    // Only numbered placeholders are spliced in; the ids are bound.
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}

#[tracing::instrument(level = "debug", skip_all)]
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

/// The live accounts among `ids`, in one query (for a page's senders).
#[tracing::instrument(level = "debug", skip_all, fields(n = ids.len()))]
pub async fn find_many(conn: &mut AnyConnection, ids: &[UserId]) -> Result<Vec<User>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE deleted_at IS NULL AND id IN ({})"
        ),
        plaza_platform::db::placeholders(1, ids.len())
    );
    // Only numbered placeholders are spliced in; the ids are bound.
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    let rows: Vec<UserRow> = query.fetch_all(conn).await?;
    Ok(rows.into_iter().map(User::from).collect())
}

#[tracing::instrument(level = "debug", skip_all)]
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

#[tracing::instrument(level = "debug", skip_all)]
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

#[tracing::instrument(level = "debug", skip_all)]
pub async fn email_taken(conn: &mut AnyConnection, email: &Email) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Writes the fields a profile edit may change.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_profile(conn: &mut AnyConnection, user: &User) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET display_name = $2, bio = $3, timezone = $4, locale = $5, \
         settings = $6, updated_at = $7 WHERE id = $1",
    )
    .bind(user.id)
    .bind(&user.display_name)
    .bind(&user.bio)
    .bind(&user.timezone)
    .bind(&user.locale)
    .bind(user.settings.to_string())
    .bind(user.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_avatar(
    conn: &mut AnyConnection,
    id: UserId,
    avatar: Option<plaza_core::FileId>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET avatar_id = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(avatar)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_role_and_ban(
    conn: &mut AnyConnection,
    id: UserId,
    role: plaza_core::Role,
    banned_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = $2, banned_at = $3, updated_at = $4 WHERE id = $1")
        .bind(id)
        .bind(role)
        .bind(banned_at)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_email_verified(
    conn: &mut AnyConnection,
    id: UserId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET email_verified = 1, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes what identifies a person, keeping the row (and its id) that
/// other users' history points at.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn anonymise(
    conn: &mut AnyConnection,
    id: UserId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let tag = id.0.simple().to_string();
    sqlx::query(
        "UPDATE users SET email = $2, username = $3, display_name = NULL, bio = NULL, \
         avatar_id = NULL, settings = '{}', password_hash = NULL, email_verified = 0, \
         deleted_at = $4, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(format!("deleted-{tag}@deleted.invalid"))
    .bind(format!("deleted_{}", &tag[8..]))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `LIKE` pattern for "starts with `prefix`", case folded, wildcards escaped.
fn prefix_pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for c in prefix.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Accounts whose username or display name (or a word of it) starts with
/// `q`, exact matches first, then usernames that start with it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search(
    conn: &mut AnyConnection,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), sqlx::Error> {
    let starts = prefix_pattern(q);
    let word = format!("% {starts}");
    let exact = q.to_lowercase();
    let rows: Vec<UserRow> = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE deleted_at IS NULL AND (lower(username) LIKE $1 ESCAPE '\\' \
         OR lower(display_name) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $2 ESCAPE '\\') \
         ORDER BY CASE WHEN lower(username) = $3 OR lower(display_name) = $3 THEN 0 \
         WHEN lower(username) LIKE $1 ESCAPE '\\' THEN 1 ELSE 2 END, lower(username) \
         LIMIT $4 OFFSET $5"
    ))
    .bind(&starts)
    .bind(&word)
    .bind(&exact)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL AND (lower(username) LIKE $1 ESCAPE '\\' \
         OR lower(display_name) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $2 ESCAPE '\\')",
    )
    .bind(&starts)
    .bind(&word)
    .fetch_one(conn)
    .await?;
    Ok((rows.into_iter().map(User::from).collect(), total))
}

/// Every live account for admins, newest first, optionally matching `q` in
/// email, username or display name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_all(
    conn: &mut AnyConnection,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), sqlx::Error> {
    let pattern = match q {
        Some(q) => format!("%{}", prefix_pattern(q)),
        None => "%".to_owned(),
    };
    let rows: Vec<UserRow> = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE deleted_at IS NULL AND (lower(email) LIKE $1 ESCAPE '\\' \
         OR lower(username) LIKE $1 ESCAPE '\\' OR lower(COALESCE(display_name, '')) LIKE $1 ESCAPE '\\') \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL AND (lower(email) LIKE $1 ESCAPE '\\' \
         OR lower(username) LIKE $1 ESCAPE '\\' OR lower(COALESCE(display_name, '')) LIKE $1 ESCAPE '\\')",
    )
    .bind(&pattern)
    .fetch_one(conn)
    .await?;
    Ok((rows.into_iter().map(User::from).collect(), total))
}

/// Moves the account to a proven new address.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_email(
    conn: &mut AnyConnection,
    id: UserId,
    email: &Email,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET email = $2, email_verified = 1, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(email)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
