//! Chat use cases. Each checks membership and owns its unit of work; the
//! stores hold the SQL. REST (seeds 001 and 002) and the socket's commands
//! call the same functions.

mod changes;
mod chats;
mod members;
mod messages;
mod reactions;
mod search;
mod threads;

use plaza_core::{ChatId, Timestamp, UserId};

pub use changes::changed_since;
pub use chats::{ChatDetail, ChatSummary, NewChat, create_chat, get_chat, list_chats};
pub use members::{
    Member, add_members, change_role, channels, join, leave, list_members, members_of, mute, remove,
};
pub use messages::{
    MAX_CONTENT, MessagePage, NewMessage, backlog, delete_message, edit_message, group_page,
    list_messages, mark_read, send_message, send_system, send_to_group,
};
pub use reactions::react;
pub use search::search;
pub use threads::{Thread, mark_thread_read, replies};

/// What other slices read of chats (the socket hub and presence): the
/// store's functions they may call, the slice's public data API.
pub use super::message_store::list_messages as messages_after;
pub use super::store::{chat_ids_of, direct_contacts, last_seq, share_a_chat};

use super::error::ChatError;
use super::model::{Chat, ChatKind, MemberRole, Visibility};
use super::store;

/// The caller's role in `chat`; a chat they may not see is `NotFound`,
/// a public channel they have not joined is `NotJoined`.
#[tracing::instrument(level = "debug", skip_all)]
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
                Err(ChatError::NotJoined)
            } else {
                Err(ChatError::NotFound)
            }
        }
        None => Err(ChatError::NotFound),
    }
}

/// Whether `me` may watch `chat` live (`join_room`, `resume`): members, and
/// members of the group of a public channel.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn may_watch(
    state: &crate::state::AppState,
    chat: ChatId,
    me: UserId,
) -> Result<(), ChatError> {
    let mut db = state.db.fresh().acquire().await?;
    watchable(&mut db, chat, me).await
}

async fn watchable(
    conn: &mut sqlx::AnyConnection,
    chat: ChatId,
    me: UserId,
) -> Result<(), ChatError> {
    match membership(conn, chat, me).await {
        Ok(_) | Err(ChatError::NotJoined) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Tells a chat's other members that `me` is typing (members only; not
/// stored, at most once; the socket limits how often).
#[tracing::instrument(level = "debug", skip(state))]
pub async fn typing(
    state: &crate::state::AppState,
    chat: ChatId,
    me: UserId,
) -> Result<(), ChatError> {
    {
        let mut db = state.db.fresh().acquire().await?;
        membership(&mut db, chat, me).await?;
    }
    super::events::typing(state, chat, me).await;
    Ok(())
}
