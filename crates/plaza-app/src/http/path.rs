//! Path parameters as typed ids. A malformed id answers exactly as an
//! unknown one would (404, the entity's own `code` and message), so the
//! shape of an id tells a caller nothing; the answer for each id type is
//! in [`PathId`]'s impls below.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use plaza_core::{
    AiRequestId, ChatId, ConversationId, FileId, JobId, MessageId, NotificationId, PaymentId,
    PlanId, ProjectId, ResponseId, RoomId, SessionId, TemplateId, UserId,
};

use super::ApiError;
use super::error::codes;

/// The route's path parameters, in order: one typed id, a tuple of them,
/// or a `String` for a parameter that is not an id.
#[derive(Debug, Clone, Copy)]
pub struct ValidPath<T>(pub T);

/// One path parameter.
pub trait PathId: Sized {
    fn parse(raw: &str) -> Result<Self, ApiError>;
}

/// All of a route's path parameters.
pub trait PathIds: Sized {
    fn from_params(raw: &[&str]) -> Result<Self, ApiError>;
}

impl<A: PathId> PathIds for A {
    fn from_params(raw: &[&str]) -> Result<Self, ApiError> {
        A::parse(nth(raw, 0)?)
    }
}

impl<A: PathId, B: PathId> PathIds for (A, B) {
    fn from_params(raw: &[&str]) -> Result<Self, ApiError> {
        Ok((A::parse(nth(raw, 0)?)?, B::parse(nth(raw, 1)?)?))
    }
}

fn nth<'a>(raw: &[&'a str], i: usize) -> Result<&'a str, ApiError> {
    raw.get(i)
        .copied()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the route has no path parameter {i}")))
}

impl<S: Send + Sync, T: PathIds> FromRequestParts<S> for ValidPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            // Only a percent-encoding that is not UTF-8; no id looks like that.
            .map_err(|e| ApiError::new(codes::ROUTE_NOT_FOUND, e.body_text()))?;
        let raw: Vec<&str> = params.iter().map(|(_, value)| value).collect();
        T::from_params(&raw).map(ValidPath)
    }
}

impl PathId for crate::chat::model::MemberId {
    fn parse(raw: &str) -> Result<Self, ApiError> {
        raw.parse()
            .map(Self)
            .map_err(|_| crate::chat::error::ChatError::MemberNotFound.into())
    }
}

impl PathId for String {
    fn parse(raw: &str) -> Result<Self, ApiError> {
        Ok(raw.to_owned())
    }
}

/// Implements [`PathId`] for an id type: a malformed one is `$missing`.
macro_rules! path_ids {
    ($($id:ty => $missing:expr;)*) => {
        $(
            impl PathId for $id {
                fn parse(raw: &str) -> Result<Self, ApiError> {
                    raw.parse().map_err(|_| $missing)
                }
            }
        )*
    };
}

path_ids! {
    UserId => crate::auth::error::AuthError::UserNotFound.into();
    SessionId => crate::auth::error::AuthError::SessionNotFound.into();
    FileId => crate::files::error::FilesError::NotFound.into();
    ChatId => crate::chat::error::ChatError::NotFound.into();
    MessageId => crate::chat::error::ChatError::MessageNotFound.into();
    JobId => crate::jobs::error::JobsError::NotFound.into();
    NotificationId => crate::notifications::error::NotificationsError::NotFound.into();
    TemplateId => crate::notifications::error::NotificationsError::TemplateNotFound.into();
    RoomId => crate::meditation::error::MeditationError::RoomNotFound.into();
    ProjectId => crate::projects::error::ProjectsError::NotFound.into();
    ResponseId => crate::projects::error::ProjectsError::ResponseNotFound.into();
    PaymentId => crate::payments::error::PaymentsError::NotFound.into();
    PlanId => crate::fitness::error::FitnessError::PlanNotFound.into();
    ConversationId => crate::coach::error::CoachError::ConversationNotFound.into();
    AiRequestId => crate::coach::error::CoachError::RequestNotFound.into();
}
