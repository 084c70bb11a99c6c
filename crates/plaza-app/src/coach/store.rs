//! The coach's SQL: conversations, their messages, and requests.

use plaza_core::{AiMessageId, AiRequestId, ConversationId, PlanId, Timestamp, UserId};
use sqlx::AnyConnection;

use super::model::{
    AiRequest, Author, ChatMessage, Conversation, RequestKind, RequestStatus, Topic, Urgency,
};

#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: ConversationId,
    topic: Topic,
    title: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Self {
            id: r.id,
            topic: r.topic,
            title: r.title,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub async fn insert_conversation(
    conn: &mut AnyConnection,
    user: UserId,
    c: &Conversation,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ai_conversations (id, user_id, topic, title, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(c.id)
    .bind(user)
    .bind(c.topic)
    .bind(&c.title)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `user`'s conversation `id`; none for another user's.
pub async fn conversation(
    conn: &mut AnyConnection,
    user: UserId,
    id: ConversationId,
) -> Result<Option<Conversation>, sqlx::Error> {
    let row: Option<ConversationRow> = sqlx::query_as(
        "SELECT id, topic, title, created_at, updated_at FROM ai_conversations \
         WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Into::into))
}

/// `user`'s conversations, the latest first, of `topic` if given.
pub async fn conversations(
    conn: &mut AnyConnection,
    user: UserId,
    topic: Option<Topic>,
    limit: u32,
    offset: u32,
) -> Result<Vec<Conversation>, sqlx::Error> {
    let rows: Vec<ConversationRow> = sqlx::query_as(
        "SELECT id, topic, title, created_at, updated_at FROM ai_conversations \
         WHERE user_id = $1 AND ($2 IS NULL OR topic = $2) \
         ORDER BY updated_at DESC, id DESC LIMIT $3 OFFSET $4",
    )
    .bind(user)
    .bind(topic)
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn touch_conversation(
    conn: &mut AnyConnection,
    id: ConversationId,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ai_conversations SET updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Forgets `user`'s conversation, and by cascade its messages and
/// requests; false if there was none.
pub async fn delete_conversation(
    conn: &mut AnyConnection,
    user: UserId,
    id: ConversationId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM ai_conversations WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: AiMessageId,
    role: Author,
    content: String,
    provider: Option<String>,
    tokens_in: i64,
    tokens_out: i64,
    cost_micros: i64,
    created_at: Timestamp,
}

impl From<MessageRow> for ChatMessage {
    fn from(r: MessageRow) -> Self {
        Self {
            id: r.id,
            role: r.role,
            content: r.content,
            provider: r.provider,
            tokens_in: r.tokens_in,
            tokens_out: r.tokens_out,
            cost_micros: r.cost_micros,
            created_at: r.created_at,
        }
    }
}

pub async fn insert_message(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    user: UserId,
    m: &ChatMessage,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ai_messages (id, conversation_id, user_id, role, content, provider, \
         tokens_in, tokens_out, cost_micros, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(m.id)
    .bind(conversation)
    .bind(user)
    .bind(m.role)
    .bind(&m.content)
    .bind(&m.provider)
    .bind(m.tokens_in)
    .bind(m.tokens_out)
    .bind(m.cost_micros)
    .bind(m.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A conversation's messages in order: the last `limit` of them.
pub async fn messages(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    limit: u32,
) -> Result<Vec<ChatMessage>, sqlx::Error> {
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT id, role, content, provider, tokens_in, tokens_out, cost_micros, created_at \
         FROM ai_messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(conversation)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().rev().map(Into::into).collect())
}

pub async fn message(
    conn: &mut AnyConnection,
    id: AiMessageId,
) -> Result<Option<ChatMessage>, sqlx::Error> {
    let row: Option<MessageRow> = sqlx::query_as(
        "SELECT id, role, content, provider, tokens_in, tokens_out, cost_micros, created_at \
         FROM ai_messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Into::into))
}

macro_rules! request_columns {
    () => {
        "id, user_id, kind, priority, status, conversation_id, question_id, answer_id, plan_id, \
         input, error, retry_at, provider, tokens_in, tokens_out, cost_micros, created_at, started_at, \
         finished_at"
    };
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: AiRequestId,
    user_id: UserId,
    kind: RequestKind,
    priority: Urgency,
    status: RequestStatus,
    conversation_id: Option<ConversationId>,
    question_id: Option<AiMessageId>,
    answer_id: Option<AiMessageId>,
    plan_id: Option<PlanId>,
    input: String,
    error: Option<String>,
    retry_at: Option<Timestamp>,
    provider: Option<String>,
    tokens_in: i64,
    tokens_out: i64,
    cost_micros: i64,
    created_at: Timestamp,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
}

impl From<RequestRow> for AiRequest {
    fn from(r: RequestRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            kind: r.kind,
            priority: r.priority,
            status: r.status,
            conversation_id: r.conversation_id,
            question_id: r.question_id,
            answer_id: r.answer_id,
            plan_id: r.plan_id,
            input: serde_json::from_str(&r.input).unwrap_or_default(),
            error: r.error,
            retry_at: r.retry_at,
            provider: r.provider,
            tokens_in: r.tokens_in,
            tokens_out: r.tokens_out,
            cost_micros: r.cost_micros,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

pub async fn insert_request(conn: &mut AnyConnection, r: &AiRequest) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO ai_requests (",
        request_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(r.id)
    .bind(r.user_id)
    .bind(r.kind)
    .bind(r.priority)
    .bind(r.status)
    .bind(r.conversation_id)
    .bind(r.question_id)
    .bind(r.answer_id)
    .bind(r.plan_id)
    .bind(r.input.to_string())
    .bind(&r.error)
    .bind(r.retry_at)
    .bind(&r.provider)
    .bind(r.tokens_in)
    .bind(r.tokens_out)
    .bind(r.cost_micros)
    .bind(r.created_at)
    .bind(r.started_at)
    .bind(r.finished_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Request `id`, anyone's (the job reads it).
pub async fn request(
    conn: &mut AnyConnection,
    id: AiRequestId,
) -> Result<Option<AiRequest>, sqlx::Error> {
    let row: Option<RequestRow> = sqlx::query_as(concat!(
        "SELECT ",
        request_columns!(),
        " FROM ai_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Into::into))
}

/// The newest request of a conversation.
pub async fn latest_request(
    conn: &mut AnyConnection,
    conversation: ConversationId,
) -> Result<Option<AiRequest>, sqlx::Error> {
    let row: Option<RequestRow> = sqlx::query_as(concat!(
        "SELECT ",
        request_columns!(),
        " FROM ai_requests WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(conversation)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Into::into))
}

/// Marks a queued request running; false if it was not queued (it ran).
pub async fn start_request(
    conn: &mut AnyConnection,
    id: AiRequestId,
    at: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ai_requests SET status = 'running', started_at = $1 \
         WHERE id = $2 AND status IN ('queued', 'running')",
    )
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a finished request made, or why it failed, and what it cost.
pub struct Outcome {
    pub status: RequestStatus,
    pub answer_id: Option<AiMessageId>,
    pub plan_id: Option<PlanId>,
    pub error: Option<String>,
    pub retry_at: Option<Timestamp>,
    pub provider: Option<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost_micros: i64,
}

pub async fn finish_request(
    conn: &mut AnyConnection,
    id: AiRequestId,
    outcome: &Outcome,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ai_requests SET status = $1, answer_id = $2, plan_id = $3, error = $4, \
         retry_at = $5, provider = $6, tokens_in = $7, tokens_out = $8, cost_micros = $9, \
         finished_at = $10 WHERE id = $11",
    )
    .bind(outcome.status)
    .bind(outcome.answer_id)
    .bind(outcome.plan_id)
    .bind(&outcome.error)
    .bind(outcome.retry_at)
    .bind(&outcome.provider)
    .bind(outcome.tokens_in)
    .bind(outcome.tokens_out)
    .bind(outcome.cost_micros)
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Requests since `since`, grouped by who answered and how it went.
pub async fn usage_since(
    conn: &mut AnyConnection,
    since: Timestamp,
) -> Result<Vec<super::model::UsageRow>, sqlx::Error> {
    let rows: Vec<(String, String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT COALESCE(provider, ''), status, CAST(COUNT(*) AS BIGINT), \
         CAST(COUNT(DISTINCT user_id) AS BIGINT), CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT), \
         CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) \
         FROM ai_requests WHERE created_at >= $1 \
         GROUP BY COALESCE(provider, ''), status ORDER BY 1, 2",
    )
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(provider, status, requests, users, tokens_in, tokens_out, cost_micros)| {
                super::model::UsageRow {
                    provider,
                    status,
                    requests,
                    users,
                    tokens_in,
                    tokens_out,
                    cost_micros,
                }
            },
        )
        .collect())
}
