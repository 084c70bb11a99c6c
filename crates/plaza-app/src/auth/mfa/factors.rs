//! Which second factors an account has on: what a token, a profile and
//! an account's deletion need of them, below the factor use cases.

use plaza_core::UserId;
use sqlx::AnyConnection;

use super::store;
use crate::state::AppState;

/// The factors `user` has on (`totp`, `email`), as of the latest write.
pub async fn factors(state: &AppState, user: UserId) -> Result<Vec<String>, sqlx::Error> {
    let mut conn = state.db.fresh().acquire().await?;
    store::methods(&mut conn, user).await
}

/// [`factors`] of each of `users` (a page of them), in one query.
pub async fn factors_of(
    state: &AppState,
    users: &[UserId],
) -> Result<std::collections::HashMap<UserId, Vec<String>>, sqlx::Error> {
    let mut conn = state.db.fresh().acquire().await?;
    store::methods_of(&mut conn, users).await
}

/// Turns every factor off and forgets the recovery codes (a deleted account).
pub async fn forget(conn: &mut AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    store::clear(conn, user).await
}
