//! Messages: sending (with a per-chat gapless seq, idempotent by
//! `client_id`), pages of them, edits, tombstones, read markers, and what a
//! resuming socket missed.

use plaza_core::{ChatId, FileId, MessageId, UserId};
use plaza_platform::db::unique_violation;
use serde::Serialize;
use utoipa::ToSchema;

use super::{membership, membership_and_mute, watchable};
use crate::chat::error::{ChatError, invalid};
use crate::chat::model::{ChatKind, MemberRole, Message, MessageType};
use crate::chat::{attachments, events, message_store, reactions, store};
use crate::state::AppState;

/// Longest message text, in characters.
pub const MAX_CONTENT: usize = 4000;

/// What a send carries.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub content: String,
    pub message_type: MessageType,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
    pub attachment_ids: Vec<FileId>,
}

/// A page of messages, and whether more lie beyond it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<Message>,
    pub has_more: bool,
}

/// Stores a message with the chat's next seq; a retried send (same
/// `client_id`) returns the first one. `true` when stored now.
#[tracing::instrument(skip(state, new))]
pub async fn send_message(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    new: NewMessage,
) -> Result<(Message, bool), ChatError> {
    let content = check(&new)?;
    store_new(state, me, chat, new, content).await
}

/// A message from plaza itself (a deal's escrow funded), sent as `actor`,
/// a member, so the chat's rules apply; once per `client_id`.
#[tracing::instrument(skip(state, content))]
pub async fn send_system(
    state: &AppState,
    actor: UserId,
    chat: ChatId,
    content: String,
    client_id: String,
) -> Result<(Message, bool), ChatError> {
    let new = NewMessage {
        content: content.clone(),
        message_type: MessageType::System,
        reply_to: None,
        client_id: Some(client_id),
        attachment_ids: Vec::new(),
    };
    store_new(state, actor, chat, new, content).await
}

async fn store_new(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    new: NewMessage,
    content: String,
) -> Result<(Message, bool), ChatError> {
    let reply_to = thread_of(state, chat, new.reply_to).await?;
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
        created_at: state.clock.now(),
        reactions: Default::default(),
        attachments: Vec::new(),
    };
    let with_files = !new.attachment_ids.is_empty();
    // Usually one statement: it checks the sender may write, takes the
    // seq, stores, records the event and marks read, so the chat is
    // locked only for it.
    let mut work = if with_files {
        state.work().await?
    } else {
        state.work_one().await?
    };
    let backend = state.db.backend();
    let stored = match message_store::insert_if_allowed(&mut work, backend, &mut message).await {
        Ok(true) if with_files => {
            message.attachments =
                attachments::attach(&mut work, me, message.id, &new.attachment_ids).await?;
            Ok(true)
        }
        other => other,
    };
    match stored {
        Ok(true) => {
            work.wrote_event();
            events::new_message(&mut work, &message);
            work.commit().await?;
            Ok((message, true))
        }
        Ok(false) => {
            drop(work);
            Err(refusal(state, chat, me).await)
        }
        Err(e) => {
            drop(work);
            retried(state, chat, me, message.client_id.as_deref(), e).await
        }
    }
}

/// The send's text, trimmed, once the rest of it is valid too.
fn check(new: &NewMessage) -> Result<String, ChatError> {
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
    if new.attachment_ids.len() > attachments::MAX_PER_MESSAGE {
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
    Ok(content)
}

/// The thread root a reply joins: threads are one level deep, so a reply
/// to a reply joins its root.
async fn thread_of(
    state: &AppState,
    chat: ChatId,
    reply_to: Option<MessageId>,
) -> Result<Option<MessageId>, ChatError> {
    let Some(id) = reply_to else {
        return Ok(None);
    };
    let mut conn = state.db.fresh().acquire().await?;
    let target = message_store::find_message(&mut conn, id)
        .await?
        .filter(|m| m.chat_id == chat)
        .ok_or_else(|| invalid("reply_to", "no such message in this chat"))?;
    Ok(Some(target.reply_to.unwrap_or(target.id)))
}

/// A send that failed on a unique key: a retry whose first message (with
/// this `client_id`) was stored, and which took no seq.
async fn retried(
    state: &AppState,
    chat: ChatId,
    me: UserId,
    client_id: Option<&str>,
    e: sqlx::Error,
) -> Result<(Message, bool), ChatError> {
    let (Some(client_id), Some(_)) = (client_id, unique_violation(&e)) else {
        return Err(e.into());
    };
    let mut conn = state.db.writer().acquire().await?;
    let first = message_store::find_by_client_id(&mut conn, chat, me, client_id)
        .await?
        .ok_or(ChatError::Db(e))?;
    let mut first = [first];
    attachments::fill(&mut conn, chat, &mut first).await?;
    let [first] = first;
    Ok((first, false))
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
        Ok(_) => ChatError::Muted,
    }
}

/// Sends to a group or one of its channels (seed 002): the channel must be
/// the group's.
#[tracing::instrument(skip(state, new))]
pub async fn send_to_group(
    state: &AppState,
    me: UserId,
    group: ChatId,
    channel: Option<ChatId>,
    new: NewMessage,
) -> Result<(Message, bool), ChatError> {
    let target = match channel {
        None => group,
        Some(channel) => {
            let mut conn = state.db.fresh().acquire().await?;
            let found = store::find_chat(&mut conn, channel).await?;
            if !found.is_some_and(|c| c.kind == ChatKind::Channel && c.group_id == Some(group)) {
                return Err(ChatError::NotFound);
            }
            channel
        }
    };
    send_message(state, me, target, new).await
}

/// A page of messages, oldest first: the newest, or those before
/// `before_seq`, or (catching up) those after `after_seq`.
#[tracing::instrument(skip(state))]
pub async fn list_messages(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    (before_seq, after_seq): (Option<i64>, Option<i64>),
    limit: i64,
) -> Result<MessagePage, ChatError> {
    if before_seq.is_some() && after_seq.is_some() {
        return Err(invalid(
            "before_seq",
            "give before_seq or after_seq, not both",
        ));
    }
    let mut conn = state.db.fresh().acquire().await?;
    membership(&mut conn, chat, me).await?;
    let mut items =
        message_store::list_messages(&mut conn, chat, before_seq, after_seq, limit).await?;
    let has_more = items.len() as i64 > limit;
    if has_more {
        // One extra was read: drop it from the far end of the page.
        if after_seq.is_some() {
            items.pop();
        } else {
            items.remove(0);
        }
    }
    let items = with_reactions(&mut conn, chat, me, items).await?;
    Ok(MessagePage { items, has_more })
}

/// A page by offset from the newest (seed 002), newest first, and the total.
#[tracing::instrument(skip(state))]
pub async fn group_page(
    state: &AppState,
    me: UserId,
    group: ChatId,
    (limit, offset): (i64, i64),
) -> Result<(Vec<Message>, i64), ChatError> {
    let mut conn = state.db.fresh().acquire().await?;
    membership(&mut conn, group, me).await?;
    let (items, total) = message_store::page_newest_first(&mut conn, group, limit, offset).await?;
    // Still newest first: reactions are filled in place.
    let items = with_reactions(&mut conn, group, me, items).await?;
    Ok((items, total))
}

/// What a resuming socket missed in `chat` after `after`: at most `limit`
/// messages, oldest first, and whether more follow.
#[tracing::instrument(skip(state))]
pub async fn backlog(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    after: i64,
    limit: i64,
) -> Result<(Vec<Message>, bool), ChatError> {
    if after < 0 {
        return Err(invalid("last_seq", "must be 0 or more"));
    }
    let mut db = state.db.fresh().acquire().await?;
    watchable(&mut db, chat, me).await?;
    let mut found = message_store::list_messages(&mut db, chat, None, Some(after), limit).await?;
    let more = found.len() as i64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((with_reactions(&mut db, chat, me, found).await?, more))
}

/// Changes the text of one's own message.
#[tracing::instrument(skip(state, content))]
pub async fn edit_message(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    id: MessageId,
    content: String,
) -> Result<Message, ChatError> {
    let content = content.trim().to_owned();
    if content.is_empty() || content.chars().count() > MAX_CONTENT {
        return Err(invalid("content", format!("1 to {MAX_CONTENT} characters")));
    }
    let mut work = state.work().await?;
    let now = work.now();
    membership(&mut work, chat, me).await?;
    let found = live_message(&mut work, chat, id).await?;
    if found.sender_id != Some(me) {
        return Err(ChatError::Forbidden("you may only edit your own messages"));
    }
    message_store::edit_message(&mut work, id, &content, now).await?;
    let found = message_store::find_message(&mut work, id)
        .await?
        .ok_or(ChatError::MessageNotFound)?;
    let mut edited = [found];
    attachments::fill(&mut work, chat, &mut edited).await?;
    let [edited] = edited;
    let data = serde_json::json!({"chat_id": chat, "message_id": id, "seq": edited.seq});
    work.record(&chat_event("chat.message.edited", chat, me, data, now))
        .await?;
    events::edit_message(&mut work, &edited);
    work.commit().await?;
    Ok(edited)
}

/// Deletes a message (one's own; moderators and above anyone's), leaving a
/// tombstone that keeps its seq.
#[tracing::instrument(skip(state))]
pub async fn delete_message(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    id: MessageId,
) -> Result<Message, ChatError> {
    let mut work = state.work().await?;
    let now = work.now();
    let (_, role) = membership(&mut work, chat, me).await?;
    let found = live_message(&mut work, chat, id).await?;
    if found.sender_id != Some(me) && role.rank() < MemberRole::Moderator.rank() {
        return Err(ChatError::Forbidden(
            "only moderators delete others' messages",
        ));
    }
    message_store::delete_message(&mut work, id, now).await?;
    let deleted = message_store::find_message(&mut work, id)
        .await?
        .ok_or(ChatError::MessageNotFound)?;
    let data = serde_json::json!({"chat_id": chat, "message_id": id, "seq": deleted.seq});
    work.record(&chat_event("chat.message.deleted", chat, me, data, now))
        .await?;
    events::delete_message(&mut work, &deleted);
    work.commit().await?;
    Ok(deleted)
}

async fn live_message(
    conn: &mut sqlx::AnyConnection,
    chat: ChatId,
    id: MessageId,
) -> Result<Message, ChatError> {
    message_store::find_message(conn, id)
        .await?
        .filter(|m| m.chat_id == chat && !m.deleted)
        .ok_or(ChatError::MessageNotFound)
}

pub(super) fn chat_event(
    kind: &str,
    chat: ChatId,
    me: UserId,
    data: serde_json::Value,
    now: plaza_core::Timestamp,
) -> plaza_platform::outbox::Event {
    plaza_platform::outbox::Event::new(kind, format!("chat:{chat}"), Some(me), data, now)
}

/// Marks messages up to `seq` read for the caller.
#[tracing::instrument(skip(state))]
pub async fn mark_read(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    seq: i64,
) -> Result<i64, ChatError> {
    let mut work = state.work().await?;
    let (found, _) = membership(&mut work, chat, me).await?;
    if seq < 0 || seq > found.last_seq {
        return Err(invalid("seq", format!("between 0 and {}", found.last_seq)));
    }
    store::mark_read(&mut work, chat, me, seq).await?;
    events::read_receipt(&mut work, chat, me, seq);
    work.commit().await?;
    Ok(seq)
}

/// Fills in reactions and attachments for a page of messages.
#[tracing::instrument(level = "debug", skip_all)]
pub(super) async fn with_reactions(
    conn: &mut sqlx::AnyConnection,
    chat: ChatId,
    me: UserId,
    mut items: Vec<Message>,
) -> Result<Vec<Message>, ChatError> {
    let (Some(first), Some(last)) = (
        items.iter().map(|m| m.seq).min(),
        items.iter().map(|m| m.seq).max(),
    ) else {
        return Ok(items);
    };
    let mut found = reactions::for_range(conn, chat, first, last, me).await?;
    for m in &mut items {
        if let Some(r) = found.remove(&m.id) {
            m.reactions = r;
        }
    }
    attachments::fill(conn, chat, &mut items).await?;
    Ok(items)
}
