//! Message use cases beyond sending: edits, tombstones, read markers, and
//! reactions filled into a page.

use plaza_core::{ChatId, MessageId, UserId};

use super::message_store;
use super::model::{MemberRole, Message};
use super::service::{ChatError, MAX_CONTENT, invalid, membership};
use super::store;
use crate::state::AppState;

/// Changes the text of one's own message.
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
    let now = state.clock.now();
    let mut tx = state.work().await?;
    membership(&mut tx, chat, me).await?;
    let found = message_store::find_message(&mut tx, id)
        .await?
        .filter(|m| m.chat_id == chat && !m.deleted)
        .ok_or(ChatError::MessageNotFound)?;
    if found.sender_id != Some(me) {
        return Err(ChatError::Forbidden("you may only edit your own messages"));
    }
    message_store::edit_message(&mut tx, id, &content, now).await?;
    let found = message_store::find_message(&mut tx, id)
        .await?
        .ok_or(ChatError::MessageNotFound)?;
    let mut edited = [found];
    super::attachments::fill(&mut tx, chat, &mut edited).await?;
    let [edited] = edited;
    let event = plaza_platform::outbox::Event::new(
        "chat.message.edited",
        format!("chat:{chat}"),
        Some(me),
        serde_json::json!({"chat_id": chat, "message_id": id, "seq": edited.seq}),
        now,
    );
    tx.record(&event).await?;
    super::events::edit_message(&mut tx, &edited);
    tx.commit().await?;
    Ok(edited)
}

/// Deletes a message (one's own; moderators and above anyone's), leaving a
/// tombstone that keeps its seq.
pub async fn delete_message(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    id: MessageId,
) -> Result<Message, ChatError> {
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let (_, role) = membership(&mut tx, chat, me).await?;
    let found = message_store::find_message(&mut tx, id)
        .await?
        .filter(|m| m.chat_id == chat && !m.deleted)
        .ok_or(ChatError::MessageNotFound)?;
    if found.sender_id != Some(me) && role.rank() < MemberRole::Moderator.rank() {
        return Err(ChatError::Forbidden(
            "only moderators delete others' messages",
        ));
    }
    message_store::delete_message(&mut tx, id, now).await?;
    let deleted = message_store::find_message(&mut tx, id)
        .await?
        .ok_or(ChatError::MessageNotFound)?;
    let event = plaza_platform::outbox::Event::new(
        "chat.message.deleted",
        format!("chat:{chat}"),
        Some(me),
        serde_json::json!({"chat_id": chat, "message_id": id, "seq": deleted.seq}),
        now,
    );
    tx.record(&event).await?;
    super::events::delete_message(&mut tx, &deleted);
    tx.commit().await?;
    Ok(deleted)
}

/// Marks messages up to `seq` read for the caller.
pub async fn mark_read(
    state: &AppState,
    me: UserId,
    chat: ChatId,
    seq: i64,
) -> Result<i64, ChatError> {
    let mut tx = state.work().await?;
    let (found, _) = membership(&mut tx, chat, me).await?;
    if seq < 0 || seq > found.last_seq {
        return Err(invalid("seq", format!("between 0 and {}", found.last_seq)));
    }
    store::mark_read(&mut tx, chat, me, seq).await?;
    super::events::read_receipt(&mut tx, chat, me, seq);
    tx.commit().await?;
    Ok(seq)
}

/// Fills in reactions for a page of messages (oldest first).
pub async fn with_reactions(
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
    let mut found = super::reactions::for_range(conn, chat, first, last, me).await?;
    for m in &mut items {
        if let Some(r) = found.remove(&m.id) {
            m.reactions = r;
        }
    }
    super::attachments::fill(conn, chat, &mut items).await?;
    Ok(items)
}
