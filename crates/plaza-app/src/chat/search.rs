//! Searching the messages of my chats: SQLite FTS5 or PostgreSQL
//! `tsvector`, the one place where the two databases need their own SQL.

use axum::Json;
use axum::extract::State;
use plaza_core::{ChatId, UserId};
use plaza_platform::db::Backend;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::{IntoParams, ToSchema};

use super::model::{Message, MessageRow, message_columns};
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody, ValidQuery, page_limit};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (all of them), e.g. `release notes`.
    q: String,
    /// Only this chat.
    chat_id: Option<String>,
    /// 1–100, default 20.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// Best match first.
    items: Vec<Message>,
}

/// Words of `q` as an FTS5 query: each quoted (so operators are literal), all required.
fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn find(
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

/// `GET /api/messages/search?q=&chat_id=&limit=` — messages of my chats with all the words.
#[utoipa::path(get, path = "/api/messages/search", tag = "chat", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_messages(
    State(state): State<AppState>,
    me: AuthUser,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let words: Vec<String> = query.q.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() || query.q.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "q",
            "give 1 to 200 characters to search for",
        ));
    }
    let limit = page_limit(query.limit, 20)?;
    let chat = match &query.chat_id {
        None => None,
        Some(raw) => Some(
            raw.parse::<ChatId>()
                .map_err(|_| ApiError::invalid_field("chat_id", "not a chat id"))?,
        ),
    };
    let mut conn = state.db.reader().acquire().await?;
    let items = find(
        &mut conn,
        state.db.backend(),
        me.user_id,
        &words,
        chat,
        limit,
    )
    .await?;
    Ok(Json(SearchResults { items }))
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
