//! Links between provider identities and accounts (`oauth_identities`).

use plaza_core::{Timestamp, UserId};
use sqlx::AnyConnection;

use super::Identity;

/// The live account `identity` was linked to.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn linked(
    conn: &mut AnyConnection,
    identity: &Identity,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT o.user_id FROM oauth_identities o JOIN users u ON u.id = o.user_id \
         WHERE o.provider = $1 AND o.subject = $2 AND u.deleted_at IS NULL",
    )
    .bind(identity.provider)
    .bind(&identity.subject)
    .fetch_optional(conn)
    .await
}

/// Links `identity` to `user`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn link(
    conn: &mut AnyConnection,
    identity: &Identity,
    user: UserId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_identities (provider, subject, user_id, email, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(identity.provider)
    .bind(&identity.subject)
    .bind(user)
    .bind(&identity.email)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Unlinks every provider of `user` (a deleted account).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget(conn: &mut AnyConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_identities WHERE user_id = $1")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}
