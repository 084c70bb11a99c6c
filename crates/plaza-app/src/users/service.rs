//! Making accounts, and the account operations other slices compose into
//! their own units of work. The store is private to the slice; the list
//! re-exported below is its public data API, the only way another slice
//! reads or changes an account.

use plaza_core::{Email, UserId, Username};
use plaza_platform::Work;
use plaza_platform::db::unique_violation;
use plaza_platform::outbox::Event;

use super::error::CreateUserError;
use super::model::{NewUser, User};
use super::store;
use crate::state::AppState;

pub use super::credentials_store::{
    Credentials, credentials, lock_until, password_hash, record_failed_login, reset_failed_logins,
    set_password_hash,
};
pub use super::store::{
    anonymise, email_taken, find, find_by_email, find_many, list_all, live, search, set_avatar,
    set_email, set_email_verified, set_role_and_ban, time_zone, update_profile, username_taken,
};

/// The new account's password hash. Hashing is slow, so it happens before
/// the transaction opens (SQLite has one writer).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hash_password(
    state: &AppState,
    new: &NewUser,
) -> Result<Option<String>, CreateUserError> {
    Ok(match &new.password {
        Some(p) => Some(state.passwords.hash(p).await?),
        None => None,
    })
}

/// Creates an account in the caller's unit of work, with
/// `user.registered` recorded there too. The email and username are unique
/// regardless of case; a missing username is made from the email, with a
/// number added if taken.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_user(
    tx: &mut Work<'_>,
    new: NewUser,
    hash: Option<&str>,
) -> Result<User, CreateUserError> {
    let now = tx.now();
    // Asked first so a taken email is reported as such even when a generated
    // username would collide too; the unique indexes still settle races.
    if store::email_taken(tx, &new.email).await? {
        return Err(CreateUserError::EmailTaken);
    }
    let username = match new.username {
        Some(u) => u,
        None => free_username(tx, &new.email).await?,
    };
    let user = User {
        id: UserId::new(),
        email: new.email,
        username,
        display_name: new.display_name,
        bio: None,
        avatar_id: None,
        timezone: "UTC".into(),
        locale: "en".into(),
        settings: serde_json::Value::Object(Default::default()),
        role: new.role,
        email_verified: new.email_verified,
        banned_at: None,
        created_at: now,
        updated_at: now,
    };
    store::insert(tx, &user, hash)
        .await
        .map_err(|e| match unique_violation(&e) {
            Some(c) if c.contains("users_email_key") => CreateUserError::EmailTaken,
            Some(c) if c.contains("users_username_key") => CreateUserError::UsernameTaken,
            _ => CreateUserError::Db(e),
        })?;
    let event = Event::new(
        "user.registered",
        format!("user:{}", user.id),
        Some(user.id),
        serde_json::json!({"user_id": user.id, "username": user.username, "role": user.role}),
        now,
    );
    tx.record(&event).await?;
    Ok(user)
}

async fn free_username(
    conn: &mut sqlx::AnyConnection,
    email: &Email,
) -> Result<Username, CreateUserError> {
    let base = Username::from_email_local(email.local_part());
    if !store::username_taken(conn, &base).await? {
        return Ok(base);
    }
    for _ in 0..8 {
        // The random tail of a UUIDv7 makes a 4-digit suffix.
        let bytes = uuid::Uuid::now_v7().into_bytes();
        let n = u16::from_le_bytes([bytes[14], bytes[15]]) % 10_000;
        let candidate = base.with_suffix(&format!("{n:04}"));
        if !store::username_taken(conn, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(CreateUserError::UsernameTaken)
}
