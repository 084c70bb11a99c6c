//! What FitSync's use cases refuse; `http/error/map.rs` gives each its code.

#[derive(Debug, thiserror::Error)]
pub enum FitnessError {
    /// Also for another user's.
    #[error("no such plan")]
    PlanNotFound,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A field that is wrong.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> FitnessError {
    FitnessError::Invalid {
        field,
        reason: reason.into(),
    }
}
