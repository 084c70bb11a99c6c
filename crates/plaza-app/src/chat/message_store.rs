//! SQL for messages. Functions take the caller's connection or transaction.

use plaza_core::{ChatId, MessageId, Timestamp, UserId};
use plaza_platform::db::Backend;
use sqlx::AnyConnection;

use super::model::{Message, MessageRow, message_columns};

/// Stores `m` with its chat's next seq (written into `m.seq`) and moves
/// the sender's read marker to it, in one statement and only if the sender
/// is a member who is not muted at `m.created_at`; false when refused.
/// The same statement records `chat.message.created` in the outbox (on
/// SQLite through the `messages_outbox` trigger), its id the message's.
///
/// One statement is one implicit transaction, and the chat is locked only
/// while it runs: on PostgreSQL a data-modifying CTE (the chat row's lock
/// orders a chat's senders), on SQLite an insert whose trigger moves the
/// chat's `last_seq` and the read marker (the database lock orders all).
/// A failed insert (a repeated `client_id`) takes no seq.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_if_allowed(
    conn: &mut AnyConnection,
    backend: Backend,
    m: &mut Message,
) -> Result<bool, sqlx::Error> {
    let sql = match backend {
        Backend::Postgres => {
            "WITH s AS (UPDATE chats SET last_seq = last_seq + 1, last_message_at = $8, \
               updated_at = $8 WHERE id = $2 AND EXISTS (SELECT 1 FROM chat_members w \
               WHERE w.chat_id = $2 AND w.user_id = $3 \
               AND (w.muted_until IS NULL OR w.muted_until <= $8)) RETURNING last_seq), \
             m AS (INSERT INTO messages (id, chat_id, seq, sender_id, content, message_type, \
               reply_to, client_id, created_at) \
               SELECT $1, $2, s.last_seq, $3, $4, $5, $6, $7, $8 FROM s RETURNING seq), \
             r AS (UPDATE chat_members SET last_read_seq = (SELECT seq FROM m) \
               WHERE chat_id = $2 AND user_id = $3), \
             o AS (INSERT INTO outbox (id, type, occurred_at, actor_id, subject, data) \
               SELECT $1, 'chat.message.created', $8, $3, 'chat:' || $2, \
               json_build_object('chat_id', $2::text, 'message_id', $1::text, 'seq', m.seq, \
                 'sender_id', $3::text, 'message_type', $5::text, 'reply_to', $6::text)::text \
               FROM m) \
             SELECT seq FROM m"
        }
        Backend::Sqlite => {
            "INSERT INTO messages (id, chat_id, seq, sender_id, content, message_type, \
               reply_to, client_id, created_at) \
             SELECT $1, $2, c.last_seq + 1, $3, $4, $5, $6, $7, $8 FROM chats c \
             WHERE c.id = $2 AND EXISTS (SELECT 1 FROM chat_members w \
               WHERE w.chat_id = $2 AND w.user_id = $3 \
               AND (w.muted_until IS NULL OR w.muted_until <= $8)) \
             RETURNING seq"
        }
    };
    // All rows, not the first: the statement must run to its end, where
    // SQLite commits it (it is its own transaction) and reports a failed
    // commit — a full disk. Stopping after the row would drop that error
    // with the statement, and answer 201 for a message never stored.
    let seqs: Vec<i64> = sqlx::query_scalar(sql)
        .bind(m.id)
        .bind(m.chat_id)
        .bind(m.sender_id)
        .bind(&m.content)
        .bind(m.message_type)
        .bind(m.reply_to)
        .bind(&m.client_id)
        .bind(m.created_at)
        .fetch_all(conn)
        .await?;
    match seqs.first().copied() {
        Some(seq) => {
            m.seq = seq;
            Ok(true)
        }
        None => Ok(false),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_message(
    conn: &mut AnyConnection,
    id: MessageId,
) -> Result<Option<Message>, sqlx::Error> {
    let row: Option<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Message::from))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_client_id(
    conn: &mut AnyConnection,
    chat: ChatId,
    sender: UserId,
    client_id: &str,
) -> Result<Option<Message>, sqlx::Error> {
    let row: Option<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE chat_id = $1 AND sender_id = $2 AND client_id = $3"
    ))
    .bind(chat)
    .bind(sender)
    .bind(client_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Message::from))
}

/// Messages of `chat` after `after` or before `before` (exclusive), oldest
/// first; `limit + 1` are read so the caller can tell whether more exist.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_messages(
    conn: &mut AnyConnection,
    chat: ChatId,
    before: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows: Vec<MessageRow> = match after {
        Some(after) => {
            sqlx::query_as(concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE chat_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3"
            ))
            .bind(chat)
            .bind(after)
            .bind(limit + 1)
            .fetch_all(conn)
            .await?
        }
        None => {
            let mut rows: Vec<MessageRow> = sqlx::query_as(concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
            ))
            .bind(chat)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit + 1)
            .fetch_all(conn)
            .await?;
            rows.reverse();
            rows
        }
    };
    Ok(rows.into_iter().map(Message::from).collect())
}

/// The newest message of each `(chat, last_seq)` given, in one statement;
/// chats without messages are absent.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_messages(
    conn: &mut AnyConnection,
    chats: &[(ChatId, i64)],
) -> Result<std::collections::HashMap<ChatId, Message>, sqlx::Error> {
    let chats: Vec<&(ChatId, i64)> = chats.iter().filter(|(_, seq)| *seq > 0).collect();
    if chats.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let wanted: Vec<String> = (0..chats.len())
        .map(|i| format!("(chat_id = ${} AND seq = ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT {} FROM messages WHERE {}",
        message_columns!(),
        wanted.join(" OR ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for (chat, seq) in &chats {
        query = query.bind(*chat).bind(*seq);
    }
    let rows: Vec<MessageRow> = query.fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(Message::from)
        .map(|m| (m.chat_id, m))
        .collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn edit_message(
    conn: &mut AnyConnection,
    id: MessageId,
    content: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET content = $2, edited_at = $3 WHERE id = $1")
        .bind(id)
        .bind(content)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Leaves a tombstone: the row and its seq stay, the content goes.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_message(
    conn: &mut AnyConnection,
    id: MessageId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET content = NULL, deleted_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replies in the thread of `root`, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replies(
    conn: &mut AnyConnection,
    root: MessageId,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE reply_to = $1 ORDER BY seq ASC LIMIT $2"
    ))
    .bind(root)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Message::from).collect())
}

/// A page of `chat`'s messages by offset from the newest (seed 002), and the total.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn page_newest_first(
    conn: &mut AnyConnection,
    chat: ChatId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Message>, i64), sqlx::Error> {
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE chat_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"
    ))
    .bind(chat)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE chat_id = $1")
        .bind(chat)
        .fetch_one(conn)
        .await?;
    Ok((rows.into_iter().map(Message::from).collect(), total))
}

/// Words of `q` as an FTS5 query: each quoted (so operators are literal), all required.
fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Messages of `me`'s chats (of `chat` only, if given) with all of
/// `words`, best match first; the one query whose SQL differs by database.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search(
    conn: &mut AnyConnection,
    backend: Backend,
    me: UserId,
    words: &[String],
    chat: Option<ChatId>,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let chat = chat.map(|c| c.to_string()).unwrap_or_default();
    let rows: Vec<MessageRow> = match backend {
        Backend::Sqlite => {
            sqlx::query_as(concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages JOIN (SELECT rowid AS hit, bm25(messages_fts) AS rank FROM messages_fts \
                 WHERE messages_fts MATCH $1) f ON messages.rowid = f.hit \
                 WHERE deleted_at IS NULL \
                 AND chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = $2) \
                 AND ($3 = '' OR chat_id = $3) \
                 ORDER BY f.rank, created_at DESC LIMIT $4"
            ))
            .bind(fts5_query(words))
            .bind(me)
            .bind(&chat)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        Backend::Postgres => {
            sqlx::query_as(concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE search @@ plainto_tsquery('simple', $1) AND deleted_at IS NULL \
                 AND chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = $2) \
                 AND ($3 = '' OR chat_id = $3) \
                 ORDER BY ts_rank(search, plainto_tsquery('simple', $1)) DESC, created_at DESC LIMIT $4"
            ))
            .bind(words.join(" "))
            .bind(me)
            .bind(&chat)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    Ok(rows.into_iter().map(Message::from).collect())
}

/// The newest reply seq `me` has read in the thread of `root` (0 for none).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn thread_read(
    conn: &mut AnyConnection,
    root: MessageId,
    me: UserId,
) -> Result<i64, sqlx::Error> {
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT last_read_seq FROM thread_reads WHERE root_id = $1 AND user_id = $2",
    )
    .bind(root)
    .bind(me)
    .fetch_optional(conn)
    .await?;
    Ok(seq.unwrap_or(0))
}

/// Moves `me`'s read marker in the thread of `root` up to `seq` (never back).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_thread_read(
    conn: &mut AnyConnection,
    root: MessageId,
    me: UserId,
    seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO thread_reads (root_id, user_id, last_read_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (root_id, user_id) DO UPDATE SET last_read_seq = \
         CASE WHEN excluded.last_read_seq > thread_reads.last_read_seq \
         THEN excluded.last_read_seq ELSE thread_reads.last_read_seq END",
    )
    .bind(root)
    .bind(me)
    .bind(seq)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_words_are_quoted_for_fts5() {
        let words = vec!["release".to_owned(), "no\"tes".to_owned(), "OR".to_owned()];
        assert_eq!(fts5_query(&words), "\"release\" \"notes\" \"OR\"");
    }
}
