//! What a resuming socket missed in messages it already had: edits,
//! deletions and reactions made while it was away.

use plaza_core::{ChatId, Timestamp, UserId};

use super::messages::with_reactions;
use super::watchable;
use crate::chat::changes_store;
use crate::chat::error::ChatError;
use crate::chat::model::Message;

/// The messages of `chat` up to seq `up_to` that changed after `since`,
/// each as it is now (text, tombstone, reactions), in seq order; and whether more changed than `limit` (the client then
/// reloads the chat over REST).
#[tracing::instrument(skip(state))]
pub async fn changed_since(
    state: &crate::state::AppState,
    me: UserId,
    chat: ChatId,
    up_to: i64,
    since: Timestamp,
    limit: i64,
) -> Result<(Vec<Message>, bool), ChatError> {
    let mut db = state.db.fresh().acquire().await?;
    watchable(&mut db, chat, me).await?;
    let (ids, more) = changes_store::changed_since(&mut db, chat, since, limit).await?;
    let found = changes_store::messages_among(&mut db, chat, up_to, &ids).await?;
    Ok((with_reactions(&mut db, chat, me, found).await?, more))
}
