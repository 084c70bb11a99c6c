//! Editing and deleting one's account.

use plaza_core::{DisplayName, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::{Bio, Locale, Settings, TimeZoneName, nullable};
use super::{User, store};
use crate::auth::service as auth;
use crate::http::ApiError;
use crate::state::AppState;

/// Fields to change; absent ones stay, `null` clears a clearable one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub display_name: Option<Option<DisplayName>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub bio: Option<Option<Bio>>,
    /// IANA name, e.g. `Europe/Moscow`; analytics days follow it.
    #[schema(value_type = Option<String>, example = "Europe/Moscow")]
    pub timezone: Option<TimeZoneName>,
    #[schema(value_type = Option<String>, example = "ru")]
    pub locale: Option<Locale>,
    /// Replaces the preferences object (at most 16 KiB).
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Settings>,
}

pub async fn update_profile(
    state: &AppState,
    id: UserId,
    update: ProfileUpdate,
) -> Result<User, ApiError> {
    let mut tx = state.db.begin().await?;
    let mut user = store::find(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    if let Some(name) = update.display_name {
        user.display_name = name.map(String::from);
    }
    if let Some(bio) = update.bio {
        user.bio = bio.map(|b| b.0).filter(|b| !b.is_empty());
    }
    if let Some(tz) = update.timezone {
        user.timezone = tz.0;
    }
    if let Some(locale) = update.locale {
        user.locale = locale.0;
    }
    if let Some(settings) = update.settings {
        user.settings = settings.0;
    }
    user.updated_at = state.clock.now();
    store::update_profile(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(user)
}

/// Deletes an account: its sessions end, personal data goes, and the row
/// stays anonymous so others' history still points somewhere ("deleted user").
pub async fn delete_account(state: &AppState, id: UserId) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let user = store::find(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    if let Some(avatar) = user.avatar_id {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(avatar)
            .execute(&mut *tx)
            .await?;
    }
    let ended = auth::end_all_sessions(state, &mut tx, id, None, "account_deleted").await?;
    crate::auth::forget_user(&mut tx, id).await?;
    store::anonymise(&mut tx, id, now).await?;
    tx.commit().await?;
    auth::after_revoke(state, &ended).await;
    if let Some(avatar) = user.avatar_id {
        crate::files::remove_objects(state, avatar).await;
    }
    tracing::info!(user_id = %id, "account deleted");
    Ok(())
}
