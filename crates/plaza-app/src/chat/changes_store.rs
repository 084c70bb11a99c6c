//! SQL for what a resuming socket missed in messages it already had:
//! which changed (read from the outbox), and those messages as they are.

use plaza_core::{ChatId, MessageId, Timestamp};
use sqlx::AnyConnection;

use super::model::{Message, MessageRow, message_columns};

/// Those of `ids` that are `chat`'s messages up to seq `up_to`, in seq
/// order, in one statement.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn messages_among(
    conn: &mut AnyConnection,
    chat: ChatId,
    up_to: i64,
    ids: &[MessageId],
) -> Result<Vec<Message>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM messages WHERE chat_id = $1 AND seq <= $2 AND id IN ({}) ORDER BY seq",
        message_columns!(),
        plaza_platform::db::placeholders(3, ids.len())
    );
    // Only numbered placeholders are spliced in; the ids are bound.
    let mut query = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql))
        .bind(chat)
        .bind(up_to);
    for id in ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(conn).await?;
    Ok(rows.into_iter().map(Message::from).collect())
}

/// Ids of `chat`'s messages edited, deleted or reacted to after `since`,
/// each once: read from the outbox
/// (which keeps a week), at most `limit` changes.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn changed_since(
    conn: &mut AnyConnection,
    chat: ChatId,
    since: Timestamp,
    limit: i64,
) -> Result<(Vec<MessageId>, bool), sqlx::Error> {
    #[derive(serde::Deserialize)]
    struct Changed {
        message_id: MessageId,
    }
    let data: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM outbox WHERE subject = $1 AND type IN ('chat.message.edited', \
         'chat.message.deleted', 'chat.reaction.added', 'chat.reaction.removed') \
         AND occurred_at > $2 ORDER BY occurred_at, id LIMIT $3",
    )
    .bind(format!("chat:{chat}"))
    .bind(since)
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    let more = data.len() as i64 > limit;
    let mut ids: Vec<MessageId> = Vec::new();
    for changed in data
        .iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
    {
        if let Ok(Changed { message_id }) = serde_json::from_str(changed)
            && !ids.contains(&message_id)
        {
            ids.push(message_id);
        }
    }
    Ok((ids, more))
}
