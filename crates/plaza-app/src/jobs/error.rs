//! What the jobs dashboard refuses; `http/error/map.rs` gives each its code.

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("no such job")]
    NotFound,
    #[error("the job is running; delete it once it has finished")]
    Running,
    /// A retry or cancel that does not fit the job's state.
    #[error("{refusal}; this one is {state}")]
    WrongState {
        refusal: &'static str,
        state: String,
    },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
