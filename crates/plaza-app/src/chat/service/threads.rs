//! Threads (seed 002): replies to a root message, one level deep, with a
//! read marker per member and thread.

use plaza_core::{ChatId, MessageId, UserId};
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::membership;
use super::messages::with_reactions;
use crate::chat::error::{ChatError, invalid};
use crate::chat::message_store;
use crate::chat::model::Message;
use crate::state::AppState;

/// Replies kept in one answer.
const MAX_REPLIES: i64 = 500;

/// A thread as its reader sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Thread {
    /// Oldest first.
    pub items: Vec<Message>,
    pub total: i64,
    /// The newest reply seq I have read in this thread.
    pub last_read_seq: i64,
    /// Others' live replies after it.
    pub unread_count: i64,
}

/// The root, if it is a message of `chat` that a member may see.
async fn root_of(
    conn: &mut AnyConnection,
    chat: ChatId,
    root: MessageId,
    me: UserId,
) -> Result<Message, ChatError> {
    membership(conn, chat, me).await?;
    message_store::find_message(conn, root)
        .await?
        .filter(|m| m.chat_id == chat && m.reply_to.is_none())
        .ok_or(ChatError::MessageNotFound)
}

/// A thread, oldest first, with my read marker in it.
#[tracing::instrument(skip(state))]
pub async fn replies(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    root: MessageId,
) -> Result<Thread, ChatError> {
    let mut conn = state.db.fresh().acquire().await?;
    root_of(&mut conn, chat, root, me).await?;
    let items = message_store::replies(&mut conn, root, MAX_REPLIES).await?;
    let items = with_reactions(&mut conn, chat, me, items).await?;
    let last_read_seq = message_store::thread_read(&mut conn, root, me).await?;
    let unread_count = items
        .iter()
        .filter(|m| m.seq > last_read_seq && !m.deleted && m.sender_id != Some(me))
        .count() as i64;
    Ok(Thread {
        total: items.len() as i64,
        items,
        last_read_seq,
        unread_count,
    })
}

/// I have read the thread up to `seq`; the thread as it is now.
#[tracing::instrument(skip(state))]
pub async fn mark_thread_read(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    root: MessageId,
    seq: i64,
) -> Result<Thread, ChatError> {
    let mut work = state.work().await?;
    let (found, _) = membership(&mut work, chat, me).await?;
    root_of(&mut work, chat, root, me).await?;
    if seq < 0 || seq > found.last_seq {
        return Err(invalid("seq", format!("between 0 and {}", found.last_seq)));
    }
    message_store::mark_thread_read(&mut work, root, me, seq).await?;
    work.commit().await?;
    replies(state, me, chat, root).await
}
