//! GraphQL errors in the spec's shape (`errors[]` with `message`, `path`,
//! `locations`) whose `extensions` carry what REST's error body carries:
//! `type`, `code`, `status`, `details` and, stamped per request,
//! `requestId`. Every slice error becomes one through `ApiError`, so the
//! table in `http/error/map.rs` is the only mapping; a 5xx says
//! "internal error" and its cause goes to the log.

use async_graphql::{ErrorExtensionValues, Response, Value};

use crate::http::ApiError;
use crate::http::error::{Code, codes};

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        e.log_cause();
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("type", e.kind().as_str());
        extensions.set("code", e.code());
        extensions.set("status", e.status().as_u16());
        if let Some(details) = e.details()
            && let Ok(value) = Value::from_json(details.clone())
        {
            extensions.set("details", value);
        }
        Self {
            message: e.message().to_owned(),
            source: None,
            extensions: Some(extensions),
        }
    }
}

/// `From<SliceError>` through the one table, so `?` works in resolvers.
macro_rules! through_api_error {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for async_graphql::Error {
            fn from(e: $error) -> Self {
                ApiError::from(e).into()
            }
        })*
    };
}

through_api_error!(
    crate::auth::AuthError,
    crate::chat::ChatError,
    crate::files::FilesError,
    crate::meditation::MeditationError,
    crate::notifications::NotificationsError,
    crate::payments::PaymentsError,
    crate::fitness::FitnessError,
    crate::coach::CoachError,
    crate::profiles::error::ProfilesError,
    crate::http::auth::TokenError,
);

/// Gives every error of `response` the request's id, and the errors the
/// engine itself raised (a query that does not parse or validate, a limit
/// passed) their `type` and `code`.
pub fn stamp(response: &mut Response, request_id: &str) {
    for e in &mut response.errors {
        let extensions = e.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let code = engine_code(&e.message);
            extensions.set("type", code.kind.as_str());
            extensions.set("code", code.name);
            extensions.set("status", code.status.as_u16());
        }
        extensions.set("requestId", request_id);
    }
}

/// The code of an error the engine raised, from its message (the engine
/// names no kinds).
fn engine_code(message: &str) -> &'static Code {
    if message.starts_with("Query is nested too deep") {
        codes::GRAPHQL_TOO_DEEP
    } else if message.starts_with("Query is too complex") {
        codes::GRAPHQL_TOO_COMPLEX
    } else if message.starts_with("PersistedQueryNotFound") {
        codes::GRAPHQL_PERSISTED_QUERY_NOT_FOUND
    } else {
        codes::GRAPHQL_INVALID
    }
}
