//! What meditation's use cases refuse; `http/error/map.rs` gives each its
//! code.

use super::model::Session;
use super::rooms::model::Round;

#[derive(Debug, thiserror::Error)]
pub enum MeditationError {
    #[error("no such session")]
    SessionNotFound,
    #[error("no session is active")]
    NoneActive,
    /// The session meant has ended (it is in the error's details, when known).
    #[error("that session has ended")]
    Ended(Option<Box<Session>>),
    #[error("a session is already active; end it first")]
    AlreadyActive(Option<Box<Session>>),
    #[error("scope=platform is for admins")]
    PlatformForAdmins,
    /// Also for invite-only rooms the caller may not see.
    #[error("no such room")]
    RoomNotFound,
    #[error("the room was closed")]
    RoomClosed,
    #[error("{0}")]
    NotHost(&'static str),
    #[error("not in a room; join one first")]
    NotInRoom,
    #[error("{0}")]
    NoRound(&'static str),
    /// A group session is under way (it is in the error's details).
    #[error("a group session is under way in this room")]
    RoundRunning(Option<Round>),
    #[error("the room is full")]
    RoomFull { max: i64 },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A field that is wrong.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> MeditationError {
    MeditationError::Invalid {
        field,
        reason: reason.into(),
    }
}
