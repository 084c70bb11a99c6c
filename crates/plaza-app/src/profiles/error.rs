//! What the profile use cases refuse; `http/error/map.rs` gives each its
//! code.

use crate::auth::error::AuthError;
use crate::files::error::FilesError;
use crate::users::error::CreateUserError;

#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    #[error("no such user")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Create(#[from] CreateUserError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
