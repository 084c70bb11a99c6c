//! What chat use cases refuse; `http/error/map.rs` gives each its code.

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Also for chats that exist but the caller may not see (no id probing).
    #[error("no such chat")]
    NotFound,
    #[error("no such member")]
    MemberNotFound,
    #[error("no such message")]
    MessageNotFound,
    /// The caller's role does not allow it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A public channel of the caller's group they have not joined.
    #[error("join this channel first")]
    NotJoined,
    #[error("you are muted in this chat for now")]
    Muted,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A field that is wrong.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> ChatError {
    ChatError::Invalid {
        field,
        reason: reason.into(),
    }
}
