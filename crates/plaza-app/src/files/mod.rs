//! Files: avatars now, attachments later. Bytes go to the storage port
//! under keys plaza picks; a row records owner, type and who may read.
//! Served by id through `GET /api/files/{id}`, never by a client's path.

mod handlers;
pub mod image;
pub mod store;
pub mod upload;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use plaza_core::{FileId, UserId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use store::FileRow;

use crate::http::{ApiError, LimitClass, ratelimit};
use crate::state::AppState;

/// Largest avatar upload.
pub const MAX_AVATAR_BYTES: usize = 5 << 20;

/// Who may read a file: anyone when public; else its owner, admins, and
/// members of a chat where it is attached.
pub async fn may_read(
    state: &AppState,
    row: &FileRow,
    viewer: Option<crate::http::AuthUser>,
) -> Result<bool, sqlx::Error> {
    if row.visibility == "public" {
        return Ok(true);
    }
    let Some(viewer) = viewer else {
        return Ok(false);
    };
    if viewer.is_admin() || Some(viewer.user_id) == row.owner_id {
        return Ok(true);
    }
    let shared: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM message_attachments a JOIN messages m ON m.id = a.message_id \
         JOIN chat_members c ON c.chat_id = m.chat_id \
         WHERE a.file_id = $1 AND c.user_id = $2 AND m.deleted_at IS NULL LIMIT 1",
    )
    .bind(row.id)
    .bind(viewer.user_id)
    .fetch_optional(state.db.fresh())
    .await?;
    Ok(shared.is_some())
}

/// Pictures show inline; anything else downloads under its name, so a
/// browser never renders an uploaded page or script.
pub fn disposition(row: &FileRow, variant: &str) -> String {
    if row.content_type.starts_with("image/") || variant != "original" {
        return "inline".into();
    }
    let name: String = row
        .name
        .as_deref()
        .unwrap_or("file")
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';') || *c == ' ')
        .take(100)
        .collect();
    format!(
        "attachment; filename=\"{}\"",
        if name.trim().is_empty() {
            "file"
        } else {
            name.trim()
        }
    )
}

pub(crate) fn key(id: FileId, variant: &str) -> String {
    format!("files/{id}/{variant}")
}

/// Checks and re-encodes a picture on the CPU pool, and stores its variants
/// under `id`; nothing is left stored when any step fails.
pub(crate) async fn store_picture(
    state: &AppState,
    id: FileId,
    bytes: bytes::Bytes,
) -> Result<image::Picture, ApiError> {
    let picture = state
        .cpu
        .run(move || image::process_picture(&bytes))
        .await
        .map_err(|_| ApiError::dependency("the server is shutting down"))?
        .map_err(|e| match e {
            image::ImageError::NotAnImage => ApiError::unsupported_media_type(e.to_string()),
            image::ImageError::TooManyPixels { .. } | image::ImageError::Corrupt(_) => {
                ApiError::invalid_field("file", e)
            }
        })?;
    for v in &picture.variants {
        put(state, id, &v.name, v.bytes.clone()).await?;
    }
    Ok(picture)
}

/// Stores one object of file `id`; on failure removes what the file had.
pub(crate) async fn put(
    state: &AppState,
    id: FileId,
    variant: &str,
    bytes: bytes::Bytes,
) -> Result<(), ApiError> {
    if let Err(e) = state.storage.put(&key(id, variant), bytes).await {
        remove_objects(state, id).await;
        return Err(ApiError::dependency(format!("cannot store the file: {e}")));
    }
    Ok(())
}

impl FileRow {
    /// The record of a stored picture.
    pub(crate) fn picture(
        id: FileId,
        owner: UserId,
        purpose: &str,
        visibility: &str,
        picture: &image::Picture,
        name: Option<String>,
        now: plaza_core::Timestamp,
    ) -> Self {
        let original = &picture.variants[0];
        let names: Vec<&str> = picture.variants.iter().map(|v| v.name.as_str()).collect();
        Self {
            id,
            owner_id: Some(owner),
            purpose: purpose.into(),
            visibility: visibility.into(),
            content_type: original.content_type.into(),
            byte_size: i64::try_from(original.bytes.len()).unwrap_or(i64::MAX),
            width: Some(i64::from(picture.width)),
            height: Some(i64::from(picture.height)),
            variants: names.join(","),
            name,
            created_at: now,
        }
    }
}

/// Stores an avatar for `owner` and makes it theirs, replacing the old one.
pub async fn set_avatar(
    state: &AppState,
    owner: UserId,
    bytes: bytes::Bytes,
) -> Result<FileId, ApiError> {
    let id = FileId::new();
    let avatar = store_picture(state, id, bytes).await?;
    let row = FileRow::picture(
        id,
        owner,
        "avatar",
        "public",
        &avatar,
        None,
        state.clock.now(),
    );
    let saved: Result<Option<FileId>, sqlx::Error> = async {
        let mut tx = state.db.begin().await?;
        let old = crate::users::store::find(&mut tx, owner)
            .await?
            .and_then(|u| u.avatar_id);
        store::insert(&mut tx, &row).await?;
        crate::users::store::set_avatar(&mut tx, owner, Some(id), row.created_at).await?;
        if let Some(old) = old {
            store::delete(&mut tx, old).await?;
        }
        tx.commit().await?;
        Ok(old)
    }
    .await;
    match saved {
        Ok(old) => {
            if let Some(old) = old {
                remove_objects(state, old).await;
            }
            Ok(id)
        }
        Err(e) => {
            remove_objects(state, id).await;
            Err(e.into())
        }
    }
}

/// Removes `owner`'s avatar, if any.
pub async fn clear_avatar(state: &AppState, owner: UserId) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    let old = crate::users::store::find(&mut tx, owner)
        .await?
        .and_then(|u| u.avatar_id);
    if let Some(old) = old {
        crate::users::store::set_avatar(&mut tx, owner, None, state.clock.now()).await?;
        store::delete(&mut tx, old).await?;
    }
    tx.commit().await?;
    if let Some(old) = old {
        remove_objects(state, old).await;
    }
    Ok(())
}

/// Deletes every stored object of a file whose row is gone.
pub async fn remove_objects(state: &AppState, id: FileId) {
    for variant in ["original", "256", "64"] {
        if let Err(e) = state.storage.delete(&key(id, variant)).await {
            tracing::warn!(file_id = %id, error = %e, "cannot remove a deleted file's object");
        }
    }
}

/// Upload routes: a body limit with room for the multipart framing around a
/// full-size file, and the `upload` rate limit.
fn uploads(
    state: &AppState,
    routes: OpenApiRouter<AppState>,
    max: usize,
) -> OpenApiRouter<AppState> {
    routes
        .layer(DefaultBodyLimit::max(max.saturating_add(64 << 10)))
        .route_layer(from_fn_with_state(
            (state.clone(), LimitClass::Upload),
            ratelimit::rate_limit,
        ))
}

/// 403 when the `file_upload` feature is off.
pub(crate) fn uploads_enabled(state: &AppState) -> Result<(), ApiError> {
    if state.config.features.file_upload {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "file uploads are turned off on this server",
        ))
    }
}

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let max = usize::try_from(state.config.storage.max_file_size.0).unwrap_or(usize::MAX);
    let avatars =
        OpenApiRouter::new().routes(routes!(handlers::upload_avatar, handlers::delete_avatar));
    let attachments = OpenApiRouter::new().routes(routes!(upload::upload_file));
    OpenApiRouter::new()
        .merge(uploads(state, avatars, MAX_AVATAR_BYTES))
        .merge(uploads(state, attachments, max))
        .routes(routes!(handlers::get_file))
}
