//! Chat use cases: each checks membership and owns its transaction.

use plaza_core::{ChatId, MessageId, Timestamp, UserId};
use plaza_platform::db::unique_violation;

use super::model::{Chat, ChatKind, MemberRole, Message, MessageType, Visibility};
use super::{message_store, store};
use crate::state::AppState;

/// Longest message text, in characters.
pub const MAX_CONTENT: usize = 4000;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Also for chats that exist but the caller may not see (no id probing).
    #[error("no such chat")]
    NotFound,
    #[error("no such member")]
    MemberNotFound,
    #[error("no such message")]
    MessageNotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub(super) fn invalid(field: &'static str, reason: impl Into<String>) -> ChatError {
    ChatError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// What `POST /api/chats` asks for.
#[derive(Debug, Clone)]
pub struct NewChat {
    pub kind: ChatKind,
    pub name: Option<String>,
    pub member_ids: Vec<UserId>,
    pub visibility: Option<Visibility>,
    pub group_id: Option<ChatId>,
}

/// The chat, and whether it was made now (a direct chat with the same
/// person is found, not made twice).
pub async fn create_chat(
    state: &AppState,
    me: UserId,
    new: NewChat,
) -> Result<(Chat, bool), ChatError> {
    let now = state.clock.now();
    let mut others: Vec<UserId> = new
        .member_ids
        .iter()
        .copied()
        .filter(|u| *u != me)
        .collect();
    others.sort();
    others.dedup();
    let name = new
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(invalid("name", "at most 100 characters"));
    }
    let mut tx = state.work().await?;
    let found = crate::users::service::live(&mut tx, &others).await?;
    if found.len() != others.len() {
        let missing: Vec<String> = others
            .iter()
            .filter(|u| !found.contains(u))
            .map(ToString::to_string)
            .collect();
        return Err(invalid(
            "member_ids",
            format!("no such users: {}", missing.join(", ")),
        ));
    }
    let direct_key = match new.kind {
        ChatKind::Direct => {
            let [other] = others.as_slice() else {
                return Err(invalid(
                    "member_ids",
                    "a direct chat is with exactly one other person",
                ));
            };
            let (a, b) = if me < *other {
                (me, *other)
            } else {
                (*other, me)
            };
            let key = format!("{a}:{b}");
            if let Some(id) = store::find_direct(&mut tx, &key).await? {
                let chat = store::find_chat(&mut tx, id)
                    .await?
                    .ok_or(ChatError::NotFound)?;
                return Ok((chat, false));
            }
            Some(key)
        }
        ChatKind::Group => {
            if name.is_none() {
                return Err(invalid("name", "a group needs a name"));
            }
            None
        }
        ChatKind::Channel => {
            let group = new
                .group_id
                .ok_or_else(|| invalid("group_id", "a channel belongs to a group"))?;
            let chat = store::find_chat(&mut tx, group)
                .await?
                .filter(|c| c.kind == ChatKind::Group);
            let role = match chat {
                Some(_) => store::member_role(&mut tx, group, me).await?,
                None => None,
            };
            match role {
                None => return Err(invalid("group_id", "no such group")),
                Some(r) if r.rank() < MemberRole::Admin.rank() => {
                    return Err(ChatError::Forbidden(
                        "only a group's owners and admins make channels",
                    ));
                }
                Some(_) => {}
            }
            if name.is_none() {
                return Err(invalid("name", "a channel needs a name"));
            }
            for other in &others {
                if store::member_role(&mut tx, group, *other).await?.is_none() {
                    return Err(invalid(
                        "member_ids",
                        format!("{other} is not in the group"),
                    ));
                }
            }
            None
        }
    };
    let chat = Chat {
        id: ChatId::new(),
        kind: new.kind,
        name,
        visibility: new.visibility.unwrap_or(Visibility::Private),
        group_id: if new.kind == ChatKind::Channel {
            new.group_id
        } else {
            None
        },
        created_by: Some(me),
        last_seq: 0,
        last_message_at: None,
        created_at: now,
    };
    if let Err(e) = store::insert_chat(&mut tx, &chat, direct_key.as_deref()).await {
        // Two people opening the same direct chat at once: the other won.
        if unique_violation(&e).is_some()
            && let Some(key) = &direct_key
        {
            drop(tx);
            let mut conn = state.db.writer().acquire().await?;
            let id = store::find_direct(&mut conn, key)
                .await?
                .ok_or(ChatError::NotFound)?;
            let chat = store::find_chat(&mut conn, id)
                .await?
                .ok_or(ChatError::NotFound)?;
            return Ok((chat, false));
        }
        return Err(e.into());
    }
    let my_role = if new.kind == ChatKind::Direct {
        MemberRole::Member
    } else {
        MemberRole::Owner
    };
    store::add_member(&mut tx, chat.id, me, my_role, now).await?;
    for other in &others {
        store::add_member(&mut tx, chat.id, *other, MemberRole::Member, now).await?;
    }
    others.push(me);
    super::events::membership(&mut tx, &[chat.id], &others, true);
    tx.commit().await?;
    Ok((chat, true))
}

/// The caller's role in `chat`; a chat they may not see is `NotFound`,
/// a public channel they have not joined is `Forbidden`.
pub async fn membership(
    conn: &mut sqlx::AnyConnection,
    chat: ChatId,
    me: UserId,
) -> Result<(Chat, MemberRole), ChatError> {
    let (found, role, _) = membership_and_mute(conn, chat, me).await?;
    Ok((found, role))
}

/// [`membership`], and until when the caller is muted there.
async fn membership_and_mute(
    conn: &mut sqlx::AnyConnection,
    chat: ChatId,
    me: UserId,
) -> Result<(Chat, MemberRole, Option<Timestamp>), ChatError> {
    let found = store::find_with_member(conn, chat, me)
        .await?
        .ok_or(ChatError::NotFound)?;
    match found.role {
        Some(role) => Ok((found.chat, role, found.muted_until)),
        None if found.chat.kind == ChatKind::Channel
            && found.chat.visibility == Visibility::Public =>
        {
            let in_group = match found.chat.group_id {
                Some(group) => store::member_role(conn, group, me).await?.is_some(),
                None => false,
            };
            if in_group {
                Err(ChatError::Forbidden("join this channel first"))
            } else {
                Err(ChatError::NotFound)
            }
        }
        None => Err(ChatError::NotFound),
    }
}

/// Whether `me` may watch `chat` live (`join_room`, `resume`): members, and
/// members of the group of a public channel.
pub async fn may_watch(
    conn: &mut sqlx::AnyConnection,
    chat: ChatId,
    me: UserId,
) -> Result<(), ChatError> {
    match membership(conn, chat, me).await {
        Ok(_) | Err(ChatError::Forbidden(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// What a send carries.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub content: String,
    pub message_type: MessageType,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
    pub attachment_ids: Vec<plaza_core::FileId>,
}

/// Stores a message with the chat's next seq; a retried send (same
/// `client_id`) returns the first one. `true` when stored now.
pub async fn send_message(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    new: NewMessage,
) -> Result<(Message, bool), ChatError> {
    let content = new.content.trim().to_owned();
    if content.is_empty() && new.attachment_ids.is_empty() {
        return Err(invalid("content", "must not be empty"));
    }
    if content.chars().count() > MAX_CONTENT {
        return Err(invalid(
            "content",
            format!("at most {MAX_CONTENT} characters"),
        ));
    }
    if new.attachment_ids.len() > super::attachments::MAX_PER_MESSAGE {
        return Err(invalid("attachment_ids", "at most 10 files per message"));
    }
    if new.message_type == MessageType::System {
        return Err(invalid("message_type", "system messages come from plaza"));
    }
    if new
        .client_id
        .as_ref()
        .is_some_and(|c| c.is_empty() || c.len() > 64)
    {
        return Err(invalid("client_id", "1 to 64 characters"));
    }
    let now = state.clock.now();
    let reply_to = match new.reply_to {
        None => None,
        Some(id) => {
            let mut conn = state.db.fresh().acquire().await?;
            let target = message_store::find_message(&mut conn, id)
                .await?
                .filter(|m| m.chat_id == chat)
                .ok_or_else(|| invalid("reply_to", "no such message in this chat"))?;
            // Threads are one level deep: a reply to a reply joins its root.
            Some(target.reply_to.unwrap_or(target.id))
        }
    };
    let mut message = Message {
        id: MessageId::new(),
        chat_id: chat,
        seq: 0,
        sender_id: Some(me),
        content: Some(content),
        message_type: new.message_type,
        reply_to,
        client_id: new.client_id,
        edited_at: None,
        deleted: false,
        created_at: now,
        reactions: Default::default(),
        attachments: Vec::new(),
    };
    let backend = state.db.backend();
    // Usually one statement: it checks the sender may write, takes the
    // seq, stores and marks read, so the chat is locked only for it.
    let mut work = if new.attachment_ids.is_empty() {
        state.work_one().await?
    } else {
        state.work().await?
    };
    let stored = match message_store::insert_if_allowed(&mut work, backend, &mut message).await {
        Ok(true) if !new.attachment_ids.is_empty() => {
            message.attachments =
                super::attachments::attach(&mut work, me, message.id, &new.attachment_ids).await?;
            Ok(true)
        }
        other => other,
    };
    match stored {
        Ok(true) => {
            work.wrote_event();
            super::events::new_message(&mut work, &message);
            work.commit().await?;
            Ok((message, true))
        }
        Ok(false) => {
            drop(work);
            Err(refusal(state, chat, me).await)
        }
        Err(e) => match (&message.client_id, unique_violation(&e)) {
            // A retry: the first message with this client_id was stored
            // (and this attempt took no seq).
            (Some(client_id), Some(_)) => {
                drop(work);
                let mut conn = state.db.writer().acquire().await?;
                let first = message_store::find_by_client_id(&mut conn, chat, me, client_id)
                    .await?
                    .ok_or(ChatError::Db(e))?;
                let mut first = [first];
                super::attachments::fill(&mut conn, chat, &mut first).await?;
                let [first] = first;
                Ok((first, false))
            }
            _ => Err(e.into()),
        },
    }
}

/// Why a send was refused: not a member (or no such chat), or muted.
async fn refusal(state: &AppState, chat: ChatId, me: UserId) -> ChatError {
    let mut conn = match state.db.fresh().acquire().await {
        Ok(c) => c,
        Err(e) => return e.into(),
    };
    match membership_and_mute(&mut conn, chat, me).await {
        Err(e) => e,
        // Muted (or the mute ran out just now; sending again works).
        Ok(_) => ChatError::Forbidden("you are muted in this chat for now"),
    }
}
