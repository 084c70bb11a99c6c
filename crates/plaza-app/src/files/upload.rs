//! `POST /api/files`: attachments. Pictures (sniffed PNG, JPEG, WebP, GIF)
//! are checked and re-encoded like avatars, with thumbnails; anything else
//! is stored as sent, its type sniffed from the bytes (never the client's
//! word), and served as a download.

use axum::Json;
use axum::extract::Multipart;
use axum::extract::State;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use plaza_core::{FileId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use super::image;
use super::{FileRow, store};
use crate::http::AuthUser;
use crate::http::{ApiError, ErrorBody};
use crate::state::AppState;

/// A stored file as JSON.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FileView {
    #[schema(value_type = String)]
    pub id: FileId,
    /// `/api/files/{id}`; pictures also take `?size=256|64`.
    pub url: String,
    pub content_type: String,
    pub byte_size: i64,
    pub name: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

impl From<&FileRow> for FileView {
    fn from(r: &FileRow) -> Self {
        Self {
            id: r.id,
            url: format!("/api/files/{}", r.id),
            content_type: r.content_type.clone(),
            byte_size: r.byte_size,
            name: r.name.clone(),
            width: r.width,
            height: r.height,
        }
    }
}

/// The form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FileUpload {
    /// Any file up to `storage.max_file_size` (25 MiB by default).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
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
    // Only the last path segment, without control characters, at most 200.
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    (!clean.trim().is_empty()).then(|| clean.trim().to_owned())
}

/// Stores an upload owned by `owner` (private until attached to a message).
pub async fn store_upload(
    state: &AppState,
    owner: UserId,
    name: Option<String>,
    bytes: Bytes,
) -> Result<FileRow, ApiError> {
    let id = FileId::new();
    let now = state.clock.now();
    let row = if image::is_picture(&bytes) {
        let picture = super::store_picture(state, id, bytes).await?;
        FileRow::picture(
            id,
            owner,
            "attachment",
            "private",
            &picture,
            clean_name(name),
            now,
        )
    } else {
        super::put(state, id, "original", bytes.clone()).await?;
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
        super::remove_objects(state, id).await;
        return Err(e.into());
    }
    Ok(row)
}

/// `POST /api/files` — upload a file to attach to a message.
#[utoipa::path(post, path = "/api/files", tag = "files", security(("bearer" = [])),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = FileView),
        (status = 401, body = ErrorBody),
        (status = 413, description = "Over storage.max_file_size", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "Empty, or a broken or oversized picture", body = ErrorBody),
    ))]
pub async fn upload_file(
    State(state): State<AppState>,
    me: AuthUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<FileView>), ApiError> {
    super::uploads_enabled(&state)?;
    let max = usize::try_from(state.config.storage.max_file_size.0).unwrap_or(usize::MAX);
    let (name, bytes) = super::handlers::read_file(multipart, max).await?;
    let row = store_upload(&state, me.user_id, name, bytes).await?;
    Ok((StatusCode::CREATED, Json(FileView::from(&row))))
}
