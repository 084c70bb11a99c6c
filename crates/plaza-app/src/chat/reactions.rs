//! Reactions (seed 002): an emoji per person per message, shown on each
//! message as emoji → how many and whether I reacted.

use std::collections::BTreeMap;

use plaza_core::{ChatId, MessageId, UserId};
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::message_store;
use super::service::{ChatError, membership};
use crate::state::AppState;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reaction {
    pub count: i64,
    /// Whether the caller reacted so.
    pub me: bool,
}

/// emoji → reaction, per message.
pub type Reactions = BTreeMap<String, Reaction>;

/// An emoji: 1–8 characters, no spaces or control characters.
pub fn parse_emoji(raw: &str) -> Result<String, ChatError> {
    let e = raw.trim();
    let n = e.chars().count();
    if n == 0 || n > 8 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ChatError::Invalid {
            field: "emoji",
            reason: "one emoji (1 to 8 characters, no spaces)".into(),
        });
    }
    Ok(e.to_owned())
}

/// Reactions on the messages of `chat` with seq in `from..=to`, as `me` sees them.
pub async fn for_range(
    conn: &mut AnyConnection,
    chat: ChatId,
    from: i64,
    to: i64,
    me: UserId,
) -> Result<BTreeMap<MessageId, Reactions>, sqlx::Error> {
    let rows: Vec<(MessageId, String, i64, i64)> = sqlx::query_as(
        "SELECT r.message_id, r.emoji, COUNT(*), \
         CAST(SUM(CASE WHEN r.user_id = $4 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM message_reactions r JOIN messages m ON m.id = r.message_id \
         WHERE m.chat_id = $1 AND m.seq >= $2 AND m.seq <= $3 \
         GROUP BY r.message_id, r.emoji",
    )
    .bind(chat)
    .bind(from)
    .bind(to)
    .bind(me)
    .fetch_all(conn)
    .await?;
    let mut out: BTreeMap<MessageId, Reactions> = BTreeMap::new();
    for (message, emoji, count, mine) in rows {
        out.entry(message).or_default().insert(
            emoji,
            Reaction {
                count,
                me: mine > 0,
            },
        );
    }
    Ok(out)
}

/// Adds (`on`) or removes a reaction; answers the message's reactions after.
pub async fn react(
    state: &AppState,
    me: UserId,
    message: MessageId,
    emoji: &str,
    on: bool,
) -> Result<(ChatId, Reactions), ChatError> {
    let emoji = parse_emoji(emoji)?;
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let found = message_store::find_message(&mut tx, message)
        .await?
        .filter(|m| !m.deleted)
        .ok_or(ChatError::MessageNotFound)?;
    // A message in a chat one cannot see does not exist for them.
    membership(&mut tx, found.chat_id, me)
        .await
        .map_err(|e| match e {
            ChatError::NotFound => ChatError::MessageNotFound,
            other => other,
        })?;
    let changed = if on {
        sqlx::query(
            "INSERT INTO message_reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
        )
        .bind(message)
        .bind(me)
        .bind(&emoji)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
    } else {
        sqlx::query(
            "DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
        )
        .bind(message)
        .bind(me)
        .bind(&emoji)
        .execute(&mut *tx)
        .await?
        .rows_affected()
    };
    let mut all = for_range(&mut tx, found.chat_id, found.seq, found.seq, me).await?;
    let event = plaza_platform::outbox::Event::new(
        if on {
            "chat.reaction.added"
        } else {
            "chat.reaction.removed"
        },
        format!("chat:{}", found.chat_id),
        Some(me),
        serde_json::json!({"chat_id": found.chat_id, "message_id": message, "emoji": emoji}),
        now,
    );
    if changed > 0 {
        tx.record(&event).await?;
    }
    let reactions = all.remove(&message).unwrap_or_default();
    super::events::reaction(&mut tx, found.chat_id, message, me, &emoji, on, &reactions);
    tx.commit().await?;
    Ok((found.chat_id, reactions))
}
