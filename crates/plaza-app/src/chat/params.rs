//! Ids in chat paths. A malformed id answers like an unknown one (404), so
//! the shape of an id tells a caller nothing either.

use plaza_core::{ChatId, MessageId, UserId};

use super::service::ChatError;

pub fn chat_id(raw: &str) -> Result<ChatId, ChatError> {
    raw.parse().map_err(|_| ChatError::NotFound)
}

pub fn member_id(raw: &str) -> Result<UserId, ChatError> {
    raw.parse().map_err(|_| ChatError::MemberNotFound)
}

pub fn message_id(raw: &str) -> Result<MessageId, ChatError> {
    raw.parse().map_err(|_| ChatError::MessageNotFound)
}
