//! Ids as the schema takes them (`ID`): one that does not parse is
//! answered as an unknown one is, with the slice's own "not found".

use async_graphql::ID;
use plaza_core::{ChatId, FileId, MessageId, NotificationId, SessionId, UserId};

use crate::auth::AuthError;
use crate::chat::ChatError;
use crate::files::FilesError;
use crate::notifications::NotificationsError;
use crate::profiles::ProfilesError;

pub fn chat(id: &ID) -> Result<ChatId, ChatError> {
    id.parse().map_err(|_| ChatError::NotFound)
}

pub fn message(id: &ID) -> Result<MessageId, ChatError> {
    id.parse().map_err(|_| ChatError::MessageNotFound)
}

/// A member of a chat: unknown ones are `chat.member_not_found`.
pub fn member(id: &ID) -> Result<UserId, ChatError> {
    id.parse().map_err(|_| ChatError::MemberNotFound)
}

pub fn user(id: &ID) -> Result<UserId, ProfilesError> {
    id.parse().map_err(|_| ProfilesError::NotFound)
}

pub fn session(id: &ID) -> Result<SessionId, AuthError> {
    id.parse().map_err(|_| AuthError::SessionNotFound)
}

pub fn notification(id: &ID) -> Result<NotificationId, NotificationsError> {
    id.parse().map_err(|_| NotificationsError::NotFound)
}

pub fn file(id: &ID) -> Result<FileId, FilesError> {
    id.parse().map_err(|_| FilesError::NotFound)
}
