//! Files attached to messages: uploaded first (`POST /api/files`), then
//! named in a send; each file belongs to the sender and to one message.

use std::collections::BTreeMap;

use plaza_core::{ChatId, FileId, MessageId, UserId};
use sqlx::AnyConnection;

use super::error::ChatError;
use super::model::Message;
use crate::files::FileView;
use crate::files::service as files;

pub const MAX_PER_MESSAGE: usize = 10;

/// Ties the sender's uploads to a new message, in the order given.
pub async fn attach(
    conn: &mut AnyConnection,
    me: UserId,
    message: MessageId,
    files: &[FileId],
) -> Result<Vec<FileView>, ChatError> {
    let bad = |reason: &str| ChatError::Invalid {
        field: "attachment_ids",
        reason: reason.into(),
    };
    let mut views = Vec::with_capacity(files.len());
    for (position, id) in files.iter().enumerate() {
        let row = files::find(conn, *id)
            .await?
            .filter(|f| f.owner_id == Some(me) && f.purpose == "attachment")
            .ok_or_else(|| bad("each must be a file you uploaded"))?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM message_attachments WHERE file_id = $1")
                .bind(*id)
                .fetch_optional(&mut *conn)
                .await?;
        if taken.is_some() {
            return Err(bad("a file is already attached to another message"));
        }
        sqlx::query(
            "INSERT INTO message_attachments (message_id, file_id, position) VALUES ($1, $2, $3)",
        )
        .bind(message)
        .bind(*id)
        .bind(i64::try_from(position).unwrap_or(0))
        .execute(&mut *conn)
        .await?;
        views.push(FileView::from(&row));
    }
    Ok(views)
}

/// Fills in the attachments of a page of messages.
pub async fn fill(
    conn: &mut AnyConnection,
    chat: ChatId,
    items: &mut [Message],
) -> Result<(), ChatError> {
    let (Some(first), Some(last)) = (
        items.iter().map(|m| m.seq).min(),
        items.iter().map(|m| m.seq).max(),
    ) else {
        return Ok(());
    };
    let mut by_message: BTreeMap<MessageId, Vec<FileView>> = BTreeMap::new();
    for (message, file) in files::attached_in_range(conn, chat, first, last).await? {
        by_message
            .entry(message)
            .or_default()
            .push(FileView::from(&file));
    }
    for m in items.iter_mut().filter(|m| !m.deleted) {
        if let Some(files) = by_message.remove(&m.id) {
            m.attachments = files;
        }
    }
    Ok(())
}
