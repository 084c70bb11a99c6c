//! Chats, members and messages as the rest of plaza sees them.

use plaza_core::{ChatId, MessageId, Timestamp, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use plaza_core::text_enum;

text_enum!(
    /// `direct` (two people), `group`, or `channel` (inside a group).
    ChatKind { Direct => "direct", Group => "group", Channel => "channel" }
);

text_enum!(
    /// Who may find and join a group's channel.
    Visibility { Public => "public", Private => "private" }
);

text_enum!(
    /// A member's powers, highest first.
    MemberRole { Owner => "owner", Admin => "admin", Moderator => "moderator", Member => "member" }
);

text_enum!(
    MessageType { Text => "text", Image => "image", File => "file", System => "system" }
);

impl MemberRole {
    /// Higher is more powerful.
    pub fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Admin => 2,
            Self::Moderator => 1,
            Self::Member => 0,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Chat {
    #[schema(value_type = String)]
    pub id: ChatId,
    #[sqlx(rename = "kind")]
    #[serde(rename = "type")]
    pub kind: ChatKind,
    pub name: Option<String>,
    pub visibility: Visibility,
    #[schema(value_type = Option<String>)]
    pub group_id: Option<ChatId>,
    #[schema(value_type = Option<String>)]
    pub created_by: Option<UserId>,
    /// The seq of the newest message (0 when empty).
    pub last_seq: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_message_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Also read back from the bus's frames by transports other than `/ws`.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Message {
    #[schema(value_type = String)]
    pub id: MessageId,
    #[schema(value_type = String)]
    pub chat_id: ChatId,
    /// Per chat, gapless, in the order messages were stored.
    pub seq: i64,
    #[schema(value_type = Option<String>)]
    pub sender_id: Option<UserId>,
    /// `null` once deleted.
    pub content: Option<String>,
    pub message_type: MessageType,
    /// The thread root this replies to.
    #[schema(value_type = Option<String>)]
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// emoji → `{count, me}`.
    pub reactions: super::reactions::Reactions,
    pub attachments: Vec<crate::files::model::FileView>,
}

/// A `messages` row as stored (the tombstone as a timestamp).
#[derive(sqlx::FromRow)]
pub struct MessageRow {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub seq: i64,
    pub sender_id: Option<UserId>,
    pub content: Option<String>,
    pub message_type: MessageType,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
    pub edited_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Self {
            id: r.id,
            chat_id: r.chat_id,
            seq: r.seq,
            sender_id: r.sender_id,
            content: if r.deleted_at.is_some() {
                None
            } else {
                r.content
            },
            message_type: r.message_type,
            reply_to: r.reply_to,
            client_id: r.client_id,
            edited_at: r.edited_at,
            deleted: r.deleted_at.is_some(),
            created_at: r.created_at,
            reactions: Default::default(),
            attachments: Vec::new(),
        }
    }
}

/// The columns [`MessageRow`] reads.
macro_rules! message_columns {
    () => {
        "id, chat_id, seq, sender_id, content, message_type, reply_to, client_id, edited_at, \
         deleted_at, created_at"
    };
}
pub(crate) use message_columns;

/// A chat member's user id in a path (`/api/chats/{id}/members/{user_id}`):
/// a malformed one is answered as an unknown member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberId(pub UserId);
