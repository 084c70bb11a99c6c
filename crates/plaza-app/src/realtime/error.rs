//! What the presence use case refuses; `http/error/map.rs` gives each its
//! code.

use crate::chat::error::ChatError;

/// Why a status request was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("ids: {0}")]
    Ids(String),
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
