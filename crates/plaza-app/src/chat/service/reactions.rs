//! Reacting to a message, and taking a reaction back.

use plaza_core::{ChatId, MessageId, UserId};

use super::membership;
use super::messages::chat_event;
use crate::chat::error::ChatError;
use crate::chat::reactions::{self, Reactions, parse_emoji};
use crate::chat::{events, message_store};
use crate::state::AppState;

/// Adds (`on`) or removes a reaction; answers the message's reactions after.
#[tracing::instrument(skip(state))]
pub async fn react(
    state: &AppState,
    me: UserId,
    message: MessageId,
    emoji: &str,
    on: bool,
) -> Result<(ChatId, Reactions), ChatError> {
    let emoji = parse_emoji(emoji)?;
    let mut work = state.work().await?;
    let now = work.now();
    let found = message_store::find_message(&mut work, message)
        .await?
        .filter(|m| !m.deleted)
        .ok_or(ChatError::MessageNotFound)?;
    let chat = found.chat_id;
    // A message in a chat one cannot see does not exist for them.
    membership(&mut work, chat, me).await.map_err(|e| match e {
        ChatError::NotFound => ChatError::MessageNotFound,
        other => other,
    })?;
    let changed = reactions::set(&mut work, (message, me), &emoji, on, now).await?;
    let mut all = reactions::for_range(&mut work, chat, found.seq, found.seq, me).await?;
    if changed {
        let kind = if on {
            "chat.reaction.added"
        } else {
            "chat.reaction.removed"
        };
        let data = serde_json::json!({"chat_id": chat, "message_id": message, "emoji": emoji});
        work.record(&chat_event(kind, chat, me, data, now)).await?;
    }
    let reactions = all.remove(&message).unwrap_or_default();
    events::reaction(&mut work, chat, message, me, &emoji, on, &reactions);
    work.commit().await?;
    Ok((chat, reactions))
}
