//! Files' use cases: storing an attachment, setting and clearing avatars,
//! and opening a file for a viewer. Bytes go to the storage port under keys
//! plaza picks, never a client's path; nothing is left stored when any step
//! fails.

use bytes::Bytes;
use plaza_core::{FileId, Timestamp, UserId};

use super::error::FilesError;
use super::image::{self, ImageError, Picture};
use super::store::{self, FileRow};
use super::upload::Upload;
use crate::http::AuthUser;
use crate::state::AppState;
use crate::users;

pub use super::store::{attached_in_range, find};

/// Largest avatar upload.
pub const MAX_AVATAR_BYTES: usize = 5 << 20;

/// 403 when the `file_upload` feature is off.
pub fn uploads_enabled(state: &AppState) -> Result<(), FilesError> {
    if state.config.features.file_upload {
        Ok(())
    } else {
        Err(FilesError::UploadsOff)
    }
}

/// The most bytes an attachment may have (`storage.max_file_size`).
pub fn max_upload(state: &AppState) -> usize {
    usize::try_from(state.config.storage.max_file_size.0).unwrap_or(usize::MAX)
}

/// Stores an upload owned by `me` (private until attached to a message).
/// Pictures (sniffed PNG, JPEG, WebP, GIF) are checked and re-encoded
/// like avatars, with thumbnails; anything else is stored as sent, its
/// type sniffed from the bytes (never the client's word), and served as a
/// download.
#[tracing::instrument(skip_all)]
pub async fn upload(
    state: &AppState,
    me: AuthUser,
    file: impl Future<Output = Result<Upload, FilesError>>,
) -> Result<FileRow, FilesError> {
    uploads_enabled(state)?;
    let (name, bytes) = file.await?;
    let id = FileId::new();
    let now = state.clock.now();
    let owner = me.user_id;
    let row = if image::is_picture(&bytes) {
        let picture = store_picture(state, id, bytes).await?;
        let r = FileRow::picture(id, owner, "attachment", "private", &picture, now);
        FileRow {
            name: clean_name(name),
            ..r
        }
    } else {
        put(state, id, "original", bytes.clone()).await?;
        FileRow {
            id,
            owner_id: Some(owner),
            purpose: "attachment".into(),
            visibility: "private".into(),
            content_type: sniff(&bytes),
            byte_size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            width: None,
            height: None,
            variants: "original".into(),
            name: clean_name(name),
            created_at: now,
        }
    };
    let mut conn = state.db.writer().acquire().await?;
    if let Err(e) = store::insert(&mut conn, &row).await {
        remove_objects(state, id).await;
        return Err(e.into());
    }
    Ok(row)
}

/// Stores a new avatar for `owner` and makes it theirs, replacing the old
/// one (whose objects go once the change commits).
#[tracing::instrument(skip(state, bytes), fields(bytes = bytes.len()))]
pub async fn set_avatar(state: &AppState, owner: UserId, bytes: Bytes) -> Result<(), FilesError> {
    let id = FileId::new();
    let avatar = store_picture(state, id, bytes).await?;
    let row = FileRow::picture(id, owner, "avatar", "public", &avatar, state.clock.now());
    let saved: Result<Option<FileId>, FilesError> = async {
        let mut work = state.work().await?;
        let old = users::service::find(&mut work, owner)
            .await?
            .ok_or(FilesError::NoSuchOwner)?
            .avatar_id;
        store::insert(&mut work, &row).await?;
        users::service::set_avatar(&mut work, owner, Some(id), row.created_at).await?;
        if let Some(old) = old {
            store::delete(&mut work, old).await?;
        }
        work.commit().await?;
        Ok(old)
    }
    .await;
    match saved {
        Ok(old) => {
            if let Some(old) = old {
                remove_objects(state, old).await;
            }
            Ok(())
        }
        Err(e) => {
            remove_objects(state, id).await;
            Err(e)
        }
    }
}

/// Removes `owner`'s avatar, if any.
#[tracing::instrument(skip(state))]
pub async fn clear_avatar(state: &AppState, owner: UserId) -> Result<(), FilesError> {
    let mut work = state.work().await?;
    let old = users::service::find(&mut work, owner)
        .await?
        .and_then(|u| u.avatar_id);
    if let Some(old) = old {
        let now = work.now();
        users::service::set_avatar(&mut work, owner, None, now).await?;
        store::delete(&mut work, old).await?;
        work.after_commit(remove_objects(state, old));
    }
    work.commit().await?;
    Ok(())
}

/// A stored file for `viewer`, in the variant `size` asks for (the
/// original without one): public files to anyone, private ones to their
/// owner, admins, and members of a chat where they are attached.
#[tracing::instrument(skip(state))]
pub async fn open(
    state: &AppState,
    viewer: Option<AuthUser>,
    id: FileId,
    size: Option<u32>,
) -> Result<(FileRow, String, Bytes), FilesError> {
    read_variant(state, readable(state, viewer, id).await?, size).await
}

/// A file as [`open`] gives it, to whoever holds a signed link
/// ([`super::links`]), which proved the right to read it.
#[tracing::instrument(skip(state))]
pub async fn open_linked(
    state: &AppState,
    id: FileId,
    size: Option<u32>,
) -> Result<(FileRow, String, Bytes), FilesError> {
    read_variant(state, found(state, id).await?, size).await
}

/// The file `id` if `viewer` may read it.
pub async fn readable(
    state: &AppState,
    viewer: Option<AuthUser>,
    id: FileId,
) -> Result<FileRow, FilesError> {
    let row = found(state, id).await?;
    if !may_read(state, &row, viewer).await? {
        return Err(FilesError::NotFound);
    }
    Ok(row)
}

async fn found(state: &AppState, id: FileId) -> Result<FileRow, FilesError> {
    let mut conn = state.db.reader().acquire().await?;
    store::find(&mut conn, id)
        .await?
        .ok_or(FilesError::NotFound)
}

/// The stored variant `size` names (`original` without one).
pub fn variant(row: &FileRow, size: Option<u32>) -> Result<String, FilesError> {
    match size {
        None => Ok("original".to_owned()),
        Some(size) if row.has_variant(&size.to_string()) => Ok(size.to_string()),
        Some(_) => Err(FilesError::NoSuchSize),
    }
}

async fn read_variant(
    state: &AppState,
    row: FileRow,
    size: Option<u32>,
) -> Result<(FileRow, String, Bytes), FilesError> {
    let id = row.id;
    let variant = variant(&row, size)?;
    let bytes = state
        .storage
        .get(&key(id, &variant))
        .await
        .map_err(|e| FilesError::Storage(e.to_string()))?
        .ok_or(FilesError::NotFound)?;
    Ok((row, variant, bytes))
}

async fn may_read(
    state: &AppState,
    row: &FileRow,
    viewer: Option<AuthUser>,
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
    let mut conn = state.db.fresh().acquire().await?;
    store::shared_with(&mut conn, row.id, viewer.user_id).await
}

/// Forgets a file's record in the caller's unit of work (its objects are
/// removed with [`remove_objects`] once that commits).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget(conn: &mut sqlx::AnyConnection, id: FileId) -> Result<(), sqlx::Error> {
    store::delete(conn, id).await
}

/// Deletes every stored object of a file whose row is gone.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remove_objects(state: &AppState, id: FileId) {
    for variant in ["original", "256", "64"] {
        if let Err(e) = state.storage.delete(&key(id, variant)).await {
            tracing::warn!(file_id = %id, error = %e, "cannot remove a deleted file's object");
        }
    }
}

fn key(id: FileId, variant: &str) -> String {
    format!("files/{id}/{variant}")
}

/// Checks and re-encodes a picture on the CPU pool, and stores its variants
/// under `id`.
async fn store_picture(state: &AppState, id: FileId, bytes: Bytes) -> Result<Picture, FilesError> {
    let picture = state
        .cpu
        .run(move || image::process_picture(&bytes))
        .await
        .map_err(|_| FilesError::ShuttingDown)?
        .map_err(|e| match e {
            ImageError::NotAnImage => FilesError::NotAPicture(e),
            ImageError::TooManyPixels { .. } | ImageError::Corrupt(_) => FilesError::BadPicture(e),
        })?;
    for v in &picture.variants {
        put(state, id, &v.name, v.bytes.clone()).await?;
    }
    Ok(picture)
}

/// Stores one object of file `id`; on failure removes what the file had.
async fn put(state: &AppState, id: FileId, variant: &str, bytes: Bytes) -> Result<(), FilesError> {
    if let Err(e) = state.storage.put(&key(id, variant), bytes).await {
        remove_objects(state, id).await;
        return Err(FilesError::Storage(e.to_string()));
    }
    Ok(())
}

/// Types a browser renders as a document or runs.
fn is_active(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    matches!(
        mime.to_ascii_lowercase().as_str(),
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/javascript"
            | "application/javascript"
            | "application/x-sh"
    )
}

/// What a non-picture is, from its bytes.
fn sniff(bytes: &[u8]) -> String {
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type().to_owned();
    }
    if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return "text/plain; charset=utf-8".into();
    }
    "application/octet-stream".into()
}

fn clean_name(name: Option<String>) -> Option<String> {
    let name = name?;
    // Only the last path segment, without hidden characters (a bidi
    // override makes `evil\u{202e}gpj.exe` read as `evilexe.jpg`), at most 200.
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !plaza_core::text::is_hidden(*c))
        .take(200)
        .collect();
    (!clean.trim().is_empty()).then(|| clean.trim().to_owned())
}

impl FileRow {
    /// The record of a stored picture.
    fn picture(
        id: FileId,
        owner: UserId,
        purpose: &str,
        visibility: &str,
        picture: &Picture,
        now: Timestamp,
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
            name: None,
            created_at: now,
        }
    }

    /// Pictures show inline; anything else downloads under its name, so a
    /// browser never renders an uploaded page or script.
    /// The type the bytes are served as: what was sniffed, except that
    /// anything a browser would run (HTML, SVG, XML, scripts) goes out as
    /// bytes to download, never as a page of plaza's origin.
    pub fn served_type(&self) -> &str {
        if is_active(&self.content_type) {
            "application/octet-stream"
        } else {
            &self.content_type
        }
    }

    pub fn disposition(&self, variant: &str) -> String {
        let raster = self.content_type.starts_with("image/") && !is_active(&self.content_type);
        if raster || variant != "original" {
            return "inline".into();
        }
        let name: String = self
            .name
            .as_deref()
            .unwrap_or("file")
            .chars()
            .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';') || *c == ' ')
            .take(100)
            .collect();
        let name = if name.trim().is_empty() {
            "file"
        } else {
            name.trim()
        };
        format!("attachment; filename=\"{name}\"")
    }
}
