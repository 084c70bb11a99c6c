//! SQL for file records.

use plaza_core::{FileId, Timestamp, UserId};
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: FileId,
    pub owner_id: Option<UserId>,
    pub purpose: String,
    pub visibility: String,
    pub content_type: String,
    pub byte_size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Comma-separated names: `original,256,64`.
    pub variants: String,
    /// The uploader's file name, for downloads.
    pub name: Option<String>,
    pub created_at: Timestamp,
}

impl FileRow {
    pub fn has_variant(&self, name: &str) -> bool {
        self.variants.split(',').any(|v| v == name)
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut AnyConnection, f: &FileRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO files (id, owner_id, purpose, visibility, content_type, byte_size, width, height, variants, name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(f.id)
    .bind(f.owner_id)
    .bind(&f.purpose)
    .bind(&f.visibility)
    .bind(&f.content_type)
    .bind(f.byte_size)
    .bind(f.width)
    .bind(f.height)
    .bind(&f.variants)
    .bind(&f.name)
    .bind(f.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(conn: &mut AnyConnection, id: FileId) -> Result<Option<FileRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, owner_id, purpose, visibility, content_type, byte_size, width, height, variants, name, created_at \
         FROM files WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Whether `viewer` is a member of a chat where the file is attached to a
/// message still there (the chat slice's tables: the one access rule that
/// reads them).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn shared_with(
    conn: &mut AnyConnection,
    id: FileId,
    viewer: UserId,
) -> Result<bool, sqlx::Error> {
    let shared: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM message_attachments a JOIN messages m ON m.id = a.message_id \
         JOIN chat_members c ON c.chat_id = m.chat_id \
         WHERE a.file_id = $1 AND c.user_id = $2 AND m.deleted_at IS NULL LIMIT 1",
    )
    .bind(id)
    .bind(viewer)
    .fetch_optional(conn)
    .await?;
    Ok(shared.is_some())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut AnyConnection, id: FileId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM files WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The files attached to messages of `chat` with seq in `from..=to`, in order.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn attached_in_range(
    conn: &mut AnyConnection,
    chat: plaza_core::ChatId,
    from: i64,
    to: i64,
) -> Result<Vec<(plaza_core::MessageId, FileRow)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Attached {
        message_id: plaza_core::MessageId,
        #[sqlx(flatten)]
        file: FileRow,
    }
    let rows: Vec<Attached> = sqlx::query_as(
        "SELECT a.message_id, f.id, f.owner_id, f.purpose, f.visibility, f.content_type, f.byte_size, \
         f.width, f.height, f.variants, f.name, f.created_at FROM message_attachments a \
         JOIN files f ON f.id = a.file_id JOIN messages m ON m.id = a.message_id \
         WHERE m.chat_id = $1 AND m.seq >= $2 AND m.seq <= $3 ORDER BY m.seq, a.position",
    )
    .bind(chat)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.message_id, r.file)).collect())
}
