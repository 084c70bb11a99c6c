//! Profiles' use cases: a person as a viewer sees them, editing one's own
//! (or, for admins, anyone's), the directory, avatars, and the admin's
//! list and changes. Views carry second factors, so this slice sits above
//! `auth`; the account record is `users`.

use bytes::Bytes;
use plaza_core::{DisplayName, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::ProfilesError;
use crate::auth::accounts::{self, Change};
use crate::auth::mfa::service::{factors, factors_of};
use crate::files::upload::Upload;
use crate::files::{FilesError, service as files};
use crate::http::{AdminUser, AuthUser};
use crate::state::AppState;
use crate::users::fields::{Bio, Locale, Settings, TimeZoneName, nullable};
use crate::users::{self, Audience, NewUser, User, UserView};

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

/// A page of people, and how many match in all.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub has_more: bool,
}

/// A live account, or `NotFound` (as of the latest write).
async fn account(state: &AppState, id: UserId) -> Result<User, ProfilesError> {
    let mut conn = state.db.fresh().acquire().await?;
    users::service::find(&mut conn, id)
        .await?
        .ok_or(ProfilesError::NotFound)
}

/// `user` as `viewer` sees them: the email and factors to the person and
/// admins, settings to the person only.
async fn view_for(
    state: &AppState,
    user: &User,
    viewer: Option<AuthUser>,
) -> Result<UserView, ProfilesError> {
    let audience = match viewer {
        Some(v) if v.user_id == user.id => Audience::Own,
        Some(v) if v.is_admin() => Audience::Admin,
        _ => Audience::Other,
    };
    let methods = if audience == Audience::Other {
        Vec::new()
    } else {
        factors(state, user.id).await?
    };
    Ok(user.view(audience, methods))
}

/// Someone's profile, as `viewer` (anyone, signed in or not) sees it.
#[tracing::instrument(skip(state, viewer))]
pub async fn profile(
    state: &AppState,
    viewer: Option<AuthUser>,
    id: UserId,
) -> Result<UserView, ProfilesError> {
    let user = account(state, id).await?;
    view_for(state, &user, viewer).await
}

/// The public profiles of the live accounts among `ids`, in one query
/// (a page's senders and members); unknown and deleted ids are absent.
#[tracing::instrument(skip(state, ids), fields(n = ids.len()))]
pub async fn people(
    state: &AppState,
    ids: &[UserId],
) -> Result<std::collections::HashMap<UserId, UserView>, ProfilesError> {
    let mut conn = state.db.fresh().acquire().await?;
    let found = users::service::find_many(&mut conn, ids).await?;
    Ok(found
        .iter()
        .map(|u| (u.id, u.view(Audience::Other, Vec::new())))
        .collect())
}

/// Changes a profile: one's own, or anyone's as an admin.
#[tracing::instrument(skip(state, me, update))]
pub async fn update(
    state: &AppState,
    me: AuthUser,
    id: UserId,
    update: ProfileUpdate,
) -> Result<UserView, ProfilesError> {
    if id != me.user_id && !me.is_admin() {
        account(state, id).await?;
        return Err(ProfilesError::Forbidden(
            "you may only change your own profile",
        ));
    }
    let mut work = state.work().await?;
    let mut user = users::service::find(&mut work, id)
        .await?
        .ok_or(ProfilesError::NotFound)?;
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
    user.updated_at = work.now();
    users::service::update_profile(&mut work, &user).await?;
    work.commit().await?;
    view_for(state, &user, Some(me)).await
}

/// Deletes the caller's own account (seed 004's `deleteUser`).
#[tracing::instrument(skip_all)]
pub async fn delete_mine(state: &AppState, me: AuthUser) -> Result<(), ProfilesError> {
    Ok(accounts::delete(state, me.user_id).await?)
}

/// Finds people by the start of their username or name, exact matches
/// first (seed 002's directory).
#[tracing::instrument(skip(state, me))]
pub async fn search(
    state: &AppState,
    me: AuthUser,
    q: Option<&str>,
    (limit, offset): (i64, i64),
) -> Result<Page<UserView>, ProfilesError> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.is_empty() || q.chars().count() > 64 {
        return Err(ProfilesError::Invalid {
            field: "q",
            reason: "give 1 to 64 characters to search for".into(),
        });
    }
    let (found, total) = {
        let mut conn = state.db.reader().acquire().await?;
        users::service::search(&mut conn, q, limit, offset).await?
    };
    let mut items = Vec::with_capacity(found.len());
    for u in &found {
        items.push(view_for(state, u, Some(me)).await?);
    }
    Ok(Page {
        has_more: offset + limit < total,
        items,
        total,
    })
}

/// Every account for admins, newest first, optionally matching `q`, each
/// with whether it is suspended; factors read in one query for the page.
#[tracing::instrument(skip(state, _admin))]
pub async fn admin_list(
    state: &AppState,
    _admin: AdminUser,
    q: Option<&str>,
    (limit, offset): (i64, i64),
) -> Result<Page<(UserView, bool)>, ProfilesError> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let (found, total) = {
        let mut conn = state.db.reader().acquire().await?;
        users::service::list_all(&mut conn, q, limit, offset).await?
    };
    let ids: Vec<UserId> = found.iter().map(|u| u.id).collect();
    let mut methods = factors_of(state, &ids).await?;
    let items = found
        .into_iter()
        .map(|u| {
            let two_factor = methods.remove(&u.id).unwrap_or_default();
            let banned = u.banned_at.is_some();
            (u.view(Audience::Admin, two_factor), banned)
        })
        .collect();
    Ok(Page {
        has_more: offset + limit < total,
        items,
        total,
    })
}

/// An admin makes an account (with an invitation when it has no password).
#[tracing::instrument(skip_all)]
pub async fn admin_create(
    state: &AppState,
    admin: AdminUser,
    new: NewUser,
) -> Result<UserView, ProfilesError> {
    let user = accounts::create(state, admin, new).await?;
    view_for(state, &user, Some(admin.0)).await
}

/// An admin changes a role or bans; the account's sessions end.
#[tracing::instrument(skip(state, admin))]
pub async fn admin_change(
    state: &AppState,
    admin: AdminUser,
    id: UserId,
    change: Change,
) -> Result<(UserView, bool), ProfilesError> {
    let user = accounts::change(state, admin, id, change).await?;
    let banned = user.banned_at.is_some();
    Ok((
        user.view(Audience::Admin, factors(state, id).await?),
        banned,
    ))
}

/// An admin deletes someone's account.
#[tracing::instrument(skip(state, admin))]
pub async fn admin_delete(
    state: &AppState,
    admin: AdminUser,
    id: UserId,
) -> Result<(), ProfilesError> {
    Ok(accounts::delete_other(state, admin, id).await?)
}

/// Whether `me` may change `id`'s avatar: their own, or anyone's as an admin.
async fn may_edit(state: &AppState, me: &AuthUser, id: UserId) -> Result<(), ProfilesError> {
    account(state, id).await?;
    if id != me.user_id && !me.is_admin() {
        return Err(ProfilesError::Forbidden(
            "you may only change your own avatar",
        ));
    }
    Ok(())
}

/// A new avatar (self or admin), read from `file` once allowed; the
/// profile with its new `avatar_url`.
#[tracing::instrument(skip(state, me, file))]
pub async fn set_avatar(
    state: &AppState,
    me: AuthUser,
    id: UserId,
    file: impl Future<Output = Result<Upload, FilesError>>,
) -> Result<UserView, ProfilesError> {
    files::uploads_enabled(state)?;
    may_edit(state, &me, id).await?;
    let (_, bytes): (_, Bytes) = file.await?;
    files::set_avatar(state, id, bytes).await?;
    let user = account(state, id).await?;
    view_for(state, &user, Some(me)).await
}

/// Back to no avatar.
#[tracing::instrument(skip(state, me))]
pub async fn clear_avatar(state: &AppState, me: AuthUser, id: UserId) -> Result<(), ProfilesError> {
    may_edit(state, &me, id).await?;
    Ok(files::clear_avatar(state, id).await?)
}
