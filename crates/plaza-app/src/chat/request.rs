//! What a send carries, declared once for every transport: REST's
//! `POST /api/chats/{id}/messages`, seed 002's `POST /api/v1/messages` and
//! the socket's `send_message` each add only how they name the chat.

/// Declares a send request: the fields each transport adds to name the
/// chat, then the message's own fields, and `message()` turning it into
/// the service's [`super::service::NewMessage`].
macro_rules! send_request {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        $vis struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            pub content: String,
            pub message_type: Option<$crate::chat::model::MessageType>,
            /// A message of the chat: the reply joins its thread.
            #[schema(value_type = Option<String>)]
            pub reply_to: Option<plaza_core::MessageId>,
            /// Chosen by the client; a retry with the same value returns the first message.
            pub client_id: Option<String>,
            /// Files uploaded with `POST /api/files` (at most 10).
            #[serde(default)]
            #[schema(value_type = Vec<String>)]
            pub attachment_ids: Vec<plaza_core::FileId>,
        }

        impl $name {
            /// The message this request sends.
            pub fn message(self) -> $crate::chat::service::NewMessage {
                $crate::chat::service::NewMessage {
                    content: self.content,
                    message_type: self
                        .message_type
                        .unwrap_or($crate::chat::model::MessageType::Text),
                    reply_to: self.reply_to,
                    client_id: self.client_id,
                    attachment_ids: self.attachment_ids,
                }
            }
        }
    };
}
pub(crate) use send_request;

send_request! {
    /// `POST /api/chats/{id}/messages`: the chat is in the path.
    pub struct SendMessage {}
}

send_request! {
    /// `POST /api/v1/messages` (seed 002): a group, or one of its channels.
    pub struct GroupSend {
        #[schema(value_type = String)]
        group_id: plaza_core::ChatId,
        /// A channel of the group; absent, the message goes to the group itself.
        #[serde(default)]
        #[schema(value_type = Option<String>)]
        channel_id: Option<plaza_core::ChatId>,
    }
}
