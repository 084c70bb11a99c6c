//! Reactions (seed 002): an emoji per person per message, shown on each
//! message as emoji → how many and whether I reacted; their SQL.

use std::collections::BTreeMap;

use plaza_core::{ChatId, MessageId, UserId};
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::error::ChatError;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
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

/// Adds (`on`) or takes back `me`'s `emoji` on `message`; whether it changed.
pub async fn set(
    conn: &mut AnyConnection,
    (message, me): (MessageId, UserId),
    emoji: &str,
    on: bool,
    now: plaza_core::Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = if on {
        sqlx::query(
            "INSERT INTO message_reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
        )
        .bind(message)
        .bind(me)
        .bind(emoji)
        .bind(now)
        .execute(conn)
        .await?
    } else {
        sqlx::query(
            "DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
        )
        .bind(message)
        .bind(me)
        .bind(emoji)
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() > 0)
}
