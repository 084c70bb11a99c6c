//! User accounts: the record, password rules and hashing, profiles, the
//! directory (search) and what admins do to accounts. Signing in is `auth`.

mod admin;
pub mod fields;
pub(crate) mod handlers;
pub mod model;
pub mod password;
pub mod profile;
pub mod service;
pub mod store;

pub(crate) use handlers::id_param;
pub use model::{Audience, NewUser, User, UserView};
pub use service::{CreateUserError, create_user, hash_password, insert_user, profile};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            handlers::get_my_profile,
            handlers::update_my_profile,
            handlers::delete_my_account
        ))
        .routes(routes!(handlers::get_profile, handlers::update_profile))
        .routes(routes!(handlers::create_user, handlers::search_users))
        .routes(routes!(handlers::get_user))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::update_user, admin::delete_user))
}
