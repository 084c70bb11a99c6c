//! What the notification and template use cases refuse; `http/error/map.rs`
//! gives each its code.

#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    #[error("no such notification")]
    NotFound,
    #[error("no such template")]
    TemplateNotFound,
    #[error("a template for this type, channel and locale exists; change that one")]
    TemplateTaken,
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> NotificationsError {
    NotificationsError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}
