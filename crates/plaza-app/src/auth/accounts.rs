//! An account's life beyond signing in: made (with its welcome), made by an
//! admin (with an invitation to choose a password), changed by an admin
//! (role, ban), deleted. Each ends sessions or forgets secrets, which is
//! why they live with sign-in.

use plaza_core::{Role, UserId};

use super::error::AuthError;
use super::new_account;
use crate::http::AdminUser;
use crate::state::AppState;
use crate::users::{self, CreateUserError, NewUser, User};

/// Makes an account with its welcome, outside any request (an operator's
/// `plaza user create`).
#[tracing::instrument(skip_all)]
pub async fn create_user(state: &AppState, new: NewUser) -> Result<User, CreateUserError> {
    let hash = users::hash_password(state, &new).await?;
    let mut work = state.work().await?;
    let user = new_account::insert(&mut work, new, hash.as_deref()).await?;
    work.commit().await?;
    tracing::info!(user_id = %user.id, role = %user.role, "account created");
    Ok(user)
}

/// An admin makes an account. Without a password its owner is mailed an
/// invitation to choose one.
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, _admin: AdminUser, new: NewUser) -> Result<User, AuthError> {
    let invite = new.password.is_none();
    let hash = users::hash_password(state, &new).await?;
    let mut work = state.work().await?;
    let user = new_account::insert(&mut work, new, hash.as_deref()).await?;
    if invite {
        super::recovery::service::mail_invitation(state, &mut work, &user).await?;
    }
    work.commit().await?;
    tracing::info!(user_id = %user.id, role = %user.role, "account created");
    Ok(user)
}

/// What an admin changes about an account.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub role: Option<Role>,
    /// `true` suspends the account.
    pub banned: Option<bool>,
}

/// Changes a role, bans or unbans. Either ends the account's sessions, so
/// its tokens carry the change at once.
#[tracing::instrument(skip(state, admin), fields(by = %admin.0.user_id))]
pub async fn change(
    state: &AppState,
    admin: AdminUser,
    id: UserId,
    change: Change,
) -> Result<User, AuthError> {
    if id == admin.0.user_id {
        return Err(AuthError::OwnAccount(
            "admins cannot change their own role or ban themselves",
        ));
    }
    let mut work = state.work().await?;
    let now = work.now();
    let mut user = users::service::find(&mut work, id)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    let role = change.role.unwrap_or(user.role);
    let banned_at = match change.banned {
        Some(true) => user.banned_at.or(Some(now)),
        Some(false) => None,
        None => user.banned_at,
    };
    let changed = role != user.role || banned_at.is_some() != user.banned_at.is_some();
    users::service::set_role_and_ban(&mut work, id, role, banned_at, now).await?;
    if changed {
        let reason = if banned_at.is_some() {
            "banned"
        } else {
            "role_changed"
        };
        super::sessions::end_all_sessions(state, &mut work, id, None, reason).await?;
    }
    work.commit().await?;
    if changed {
        tracing::info!(user_id = %id, %role, banned = banned_at.is_some(), "account changed by an admin");
    }
    user.role = role;
    user.banned_at = banned_at;
    Ok(user)
}

/// An admin deletes someone else's account, as its owner could.
#[tracing::instrument(skip(state, admin), fields(by = %admin.0.user_id))]
pub async fn delete_other(state: &AppState, admin: AdminUser, id: UserId) -> Result<(), AuthError> {
    if id == admin.0.user_id {
        return Err(AuthError::OwnAccount(
            "delete your own account from your profile instead",
        ));
    }
    delete(state, id).await?;
    tracing::info!(user_id = %id, "account deleted by an admin");
    Ok(())
}

/// Deletes an account: its sessions end, its secrets and personal data go,
/// and the row stays anonymous so others' history still points somewhere
/// ("deleted user").
#[tracing::instrument(skip(state))]
pub async fn delete(state: &AppState, id: UserId) -> Result<(), AuthError> {
    let mut work = state.work().await?;
    let now = work.now();
    let user = users::service::find(&mut work, id)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    super::sessions::end_all_sessions(state, &mut work, id, None, "account_deleted").await?;
    if let Some(avatar) = user.avatar_id {
        crate::files::service::forget(&mut work, avatar).await?;
        work.after_commit(crate::files::service::remove_objects(state, avatar));
    }
    forget_secrets(&mut work, id).await?;
    users::service::anonymise(&mut work, id, now).await?;
    work.commit().await?;
    tracing::info!(user_id = %id, "account deleted");
    Ok(())
}

/// Forgets an account's secrets: factors, linked providers, pending tokens.
async fn forget_secrets(conn: &mut sqlx::AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    super::mfa::service::forget(conn, user).await?;
    super::oauth::account::forget(conn, user).await?;
    super::one_time::forget(conn, user).await
}
