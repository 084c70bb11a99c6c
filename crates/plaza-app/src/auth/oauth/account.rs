//! From a provider's identity to a plaza account: the one linked before,
//! or an existing account with the same verified email (linked now), or a
//! new one. An unverified account holding the email is never linked, so
//! nobody can pre-register someone's address and inherit their sign-in.

use plaza_core::{DisplayName, Email, Role, UserId, Username};

use super::Identity;
use crate::auth::error::{AuthError, invalid};
use crate::state::AppState;
use crate::users::{self, NewUser, User};

/// The account `identity` signs in to, linked or made now.
pub async fn sign_in(state: &AppState, identity: &Identity) -> Result<User, AuthError> {
    let mut tx = state.work().await?;
    let now = tx.now();
    let linked: Option<UserId> = sqlx::query_scalar(
        "SELECT o.user_id FROM oauth_identities o JOIN users u ON u.id = o.user_id \
         WHERE o.provider = $1 AND o.subject = $2 AND u.deleted_at IS NULL",
    )
    .bind(identity.provider)
    .bind(&identity.subject)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user) = linked {
        let user = users::service::find(&mut tx, user)
            .await?
            .ok_or(AuthError::InvalidCredentials)?;
        tx.commit().await?;
        return Ok(user);
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| invalid("email", "the provider shared no usable email address"))?;
    let user = match users::service::find_by_email(&mut tx, &email).await? {
        Some(existing) if existing.email_verified && identity.email_verified => existing,
        Some(_) => return Err(AuthError::EmailHeld),
        None => {
            // The provider's handle when free here; else one made from the email.
            let mut username = identity
                .username
                .as_deref()
                .and_then(|u| Username::parse(u).ok());
            if let Some(taken) = &username
                && users::service::username_taken(&mut tx, taken).await?
            {
                username = None;
            }
            let new = NewUser {
                username,
                display_name: identity
                    .name
                    .as_deref()
                    .and_then(|n| DisplayName::parse(n).ok())
                    .map(String::from),
                email,
                password: None,
                role: Role::User,
                email_verified: identity.email_verified,
            };
            crate::auth::new_account::insert(&mut tx, new, None).await?
        }
    };
    sqlx::query(
        "INSERT INTO oauth_identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(identity.provider)
    .bind(&identity.subject)
    .bind(user.id)
    .bind(&identity.email)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, provider = identity.provider, "signed in with a provider");
    Ok(user)
}

/// Unlinks every provider of `user` (a deleted account).
pub async fn forget(conn: &mut sqlx::AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_identities WHERE user_id = $1")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}
