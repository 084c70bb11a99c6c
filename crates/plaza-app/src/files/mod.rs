//! Files: avatars now, attachments later. Bytes go to the storage port
//! under keys plaza picks; a row records owner, type and who may read.
//! Served by id through `GET /api/files/{id}`, never by a client's path.

mod handlers;
pub mod image;
mod store;

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

pub(crate) fn key(id: FileId, variant: &str) -> String {
    format!("files/{id}/{variant}")
}

/// Stores an avatar for `owner` and makes it theirs, replacing the old one.
pub async fn set_avatar(
    state: &AppState,
    owner: UserId,
    bytes: bytes::Bytes,
) -> Result<FileId, ApiError> {
    let avatar = state
        .cpu
        .run(move || image::process_avatar(&bytes))
        .await
        .map_err(|_| ApiError::dependency("the server is shutting down"))?
        .map_err(|e| match e {
            image::ImageError::NotAnImage => ApiError::unsupported_media_type(e.to_string()),
            image::ImageError::TooManyPixels { .. } | image::ImageError::Corrupt(_) => {
                ApiError::invalid_field("file", e)
            }
        })?;
    let id = FileId::new();
    for v in &avatar.variants {
        if let Err(e) = state.storage.put(&key(id, &v.name), v.bytes.clone()).await {
            discard(state, id, &avatar.variants).await;
            return Err(ApiError::dependency(format!("cannot store the file: {e}")));
        }
    }
    let original = &avatar.variants[0];
    let row = FileRow {
        id,
        owner_id: Some(owner),
        purpose: "avatar".into(),
        visibility: "public".into(),
        content_type: original.content_type.into(),
        byte_size: i64::try_from(original.bytes.len()).unwrap_or(i64::MAX),
        width: Some(i64::from(avatar.width)),
        height: Some(i64::from(avatar.height)),
        variants: avatar
            .variants
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
        created_at: state.clock.now(),
    };
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
            discard(state, id, &avatar.variants).await;
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

async fn discard(state: &AppState, id: FileId, variants: &[image::Variant]) {
    for v in variants {
        if let Err(e) = state.storage.delete(&key(id, &v.name)).await {
            tracing::warn!(file_id = %id, error = %e, "cannot remove an unused object");
        }
    }
}

/// Deletes every stored object of a file whose row is gone.
pub async fn remove_objects(state: &AppState, id: FileId) {
    for variant in ["original", "256", "64"] {
        if let Err(e) = state.storage.delete(&key(id, variant)).await {
            tracing::warn!(file_id = %id, error = %e, "cannot remove a deleted file's object");
        }
    }
}

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let upload_limit =
        from_fn_with_state((state.clone(), LimitClass::Upload), ratelimit::rate_limit);
    let uploads = OpenApiRouter::new()
        .routes(routes!(handlers::upload_avatar, handlers::delete_avatar))
        // Room for the multipart framing around a full-size file.
        .layer(DefaultBodyLimit::max(MAX_AVATAR_BYTES + (64 << 10)))
        .route_layer(upload_limit);
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(handlers::get_file))
}
