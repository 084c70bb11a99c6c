//! Searching the messages of my chats.

use plaza_core::{ChatId, UserId};

use crate::chat::error::{ChatError, invalid};
use crate::chat::message_store;
use crate::chat::model::Message;
use crate::state::AppState;

/// Messages of my chats (of `chat` only, if given) with all the words of
/// `q`, best match first.
#[tracing::instrument(skip(state))]
pub async fn search(
    state: &AppState,
    me: UserId,
    q: &str,
    chat: Option<&str>,
    limit: i64,
) -> Result<Vec<Message>, ChatError> {
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() || q.chars().count() > 200 {
        return Err(invalid("q", "give 1 to 200 characters to search for"));
    }
    let chat = chat
        .map(|raw| raw.parse::<ChatId>())
        .transpose()
        .map_err(|_| invalid("chat_id", "not a chat id"))?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(message_store::search(&mut conn, state.db.backend(), me, &words, chat, limit).await?)
}
