//! What the marketplace's use cases refuse; `http/error/map.rs` gives each
//! its code.

use super::model::{Response, ResponseStatus, Status};

#[derive(Debug, thiserror::Error)]
pub enum ProjectsError {
    /// Also for drafts and archives the caller may not see.
    #[error("no such project")]
    NotFound,
    #[error("no such response")]
    ResponseNotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("an archived project cannot change")]
    Archived,
    /// Someone else changed the project between read and write.
    #[error("{0}")]
    Changed(&'static str),
    /// Money terms that are settled (a response accepted, bids made).
    #[error("{0}")]
    Settled(&'static str),
    #[error(
        "a project cannot move from {from} to {to}; from {from} it can move to: {}",
        listed(allowed)
    )]
    BadMove {
        from: Status,
        to: Status,
        allowed: Vec<&'static str>,
    },
    #[error("a project moves to in_progress when its owner accepts a response")]
    StartByAccepting { from: Status },
    #[error("you have responded to this project already")]
    AlreadyResponded(Option<Box<Response>>),
    #[error("only open projects take responses; this one is {0}")]
    NotOpen(Status),
    #[error("only an open project accepts a response; this one is {0}")]
    CannotAccept(Status),
    #[error("the response is {0}, not pending")]
    NotPending(ResponseStatus),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A request wrong as a whole, not in one field.
    #[error("{0}")]
    Unclear(&'static str),
    /// What a deal's end must do first (an escrow payment still pending).
    #[error("{0}")]
    Blocked(String),
    /// A hook on a deal's end failed for a reason not the caller's.
    #[error(transparent)]
    Internal(anyhow::Error),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn listed(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.join(", ")
    }
}

/// A field that is wrong.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> ProjectsError {
    ProjectsError::Invalid {
        field,
        reason: reason.into(),
    }
}
