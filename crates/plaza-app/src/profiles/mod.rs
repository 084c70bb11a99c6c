//! Profiles (seeds 000, 001), the user directory (seeds 002, 004), avatars
//! and admins' user management: people as others see them. Above `auth`
//! (views carry second factors; deletion and bans end sessions) and
//! `files` (avatars); the account record is `users`.

pub mod error;
mod handlers;
pub mod service;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ProfilesError;
pub use service::ProfileUpdate;

use crate::state::AppState;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let avatars =
        OpenApiRouter::new().routes(routes!(handlers::upload_avatar, handlers::delete_avatar));
    OpenApiRouter::new()
        .routes(routes!(
            handlers::get_my_profile,
            handlers::update_my_profile,
            handlers::delete_my_account
        ))
        .routes(routes!(handlers::get_profile, handlers::update_profile))
        .routes(routes!(handlers::create_user, handlers::search_users))
        .routes(routes!(handlers::get_user))
        .routes(routes!(handlers::list_users))
        .routes(routes!(handlers::update_user, handlers::delete_user))
        .merge(crate::files::uploads(
            state,
            avatars,
            crate::files::MAX_AVATAR_BYTES,
        ))
}
