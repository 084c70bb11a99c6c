//! From a provider's identity to a plaza account: the one linked before,
//! or an existing account with the same verified email (linked now), or a
//! new one. An unverified account holding the email is never linked, so
//! nobody can pre-register someone's address and inherit their sign-in.

use plaza_core::{DisplayName, Email, Role, Username};

pub use super::store::forget;
use super::{Identity, store};
use crate::auth::error::{AuthError, invalid};
use crate::state::AppState;
use crate::users::{self, NewUser, User};

/// The account `identity` signs in to, linked or made now. A suspended
/// account is refused as it is at the password.
pub async fn sign_in(state: &AppState, identity: &Identity) -> Result<User, AuthError> {
    let mut work = state.work().await?;
    let now = work.now();
    if let Some(user) = store::linked(&mut work, identity).await? {
        let user = users::service::find(&mut work, user)
            .await?
            .ok_or(AuthError::InvalidCredentials)?;
        work.commit().await?;
        return usable(user);
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| invalid("email", "the provider shared no usable email address"))?;
    let user = match users::service::find_by_email(&mut work, &email).await? {
        Some(existing) if existing.email_verified && identity.email_verified => usable(existing)?,
        Some(_) => return Err(AuthError::EmailHeld),
        None => {
            let new = new_user(&mut work, identity, email).await?;
            crate::auth::new_account::insert(&mut work, new, None).await?
        }
    };
    store::link(&mut work, identity, user.id, now).await?;
    work.commit().await?;
    tracing::info!(user_id = %user.id, provider = identity.provider, "signed in with a provider");
    Ok(user)
}

/// `user`, unless an admin suspended it.
fn usable(user: User) -> Result<User, AuthError> {
    if user.banned_at.is_some() {
        return Err(AuthError::Banned);
    }
    Ok(user)
}

/// A new account as the provider describes the person: its handle when
/// free here (else one made from the email), its name, no password.
async fn new_user(
    conn: &mut sqlx::AnyConnection,
    identity: &Identity,
    email: Email,
) -> Result<NewUser, AuthError> {
    let mut username = identity
        .username
        .as_deref()
        .and_then(|u| Username::parse(u).ok());
    if let Some(taken) = &username
        && users::service::username_taken(conn, taken).await?
    {
        username = None;
    }
    Ok(NewUser {
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
    })
}
