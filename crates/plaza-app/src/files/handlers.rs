//! `POST /api/files` and `GET /api/files/{id}`.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use plaza_core::FileId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::FileView;
use super::service;
use crate::http::{ApiError, AuthUser, ErrorBody, MaybeAuthUser, ValidPath, ValidQuery};
use crate::state::AppState;

/// The policy every stored file is served under.
pub const USER_FILE_CSP: &str = "default-src 'none'; sandbox; frame-ancestors 'none'";

/// The form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FileUpload {
    /// Any file up to `storage.max_file_size` (25 MiB by default).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// For images: `256` or `64` for a square thumbnail.
    size: Option<u32>,
    /// With `sig`: a signed link's expiry (Unix seconds).
    expires: Option<i64>,
    /// A signed link's signature (`POST /api/files/{id}/link`): the file
    /// is served without a bearer token until `expires`.
    sig: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileLink {
    /// `/api/files/{id}?expires=…&sig=…`, readable by anyone holding it.
    url: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: plaza_core::Timestamp,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// For images: a link to the `256` or `64` thumbnail.
    size: Option<u32>,
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
    let file = super::upload::read(multipart, service::max_upload(&state));
    let row = service::upload(&state, me, file).await?;
    Ok((StatusCode::CREATED, Json(FileView::from(&row))))
}

/// `GET /api/files/{id}` — a stored file: public ones to anyone, private
/// ones to their owner, admins, and members of a chat where it is attached.
#[utoipa::path(get, path = "/api/files/{id}", tag = "files",
    params(("id" = String, Path, format = Uuid), FileQuery),
    responses(
        (status = 200, description = "The bytes, with the type sniffed at upload (pages, SVG and scripts as application/octet-stream)", content_type = "*/*"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_file(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    ValidPath(id): ValidPath<FileId>,
    ValidQuery(query): ValidQuery<FileQuery>,
) -> Result<Response, ApiError> {
    let (row, variant, bytes) = match (query.expires, &query.sig) {
        (Some(expires), Some(sig)) => {
            if !super::links::valid(&state, id, query.size, expires, sig).await? {
                // An expired or altered link is no link: as if nothing were here.
                return Err(super::error::FilesError::NotFound.into());
            }
            service::open_linked(&state, id, query.size).await?
        }
        _ => service::open(&state, viewer.0, id, query.size).await?,
    };
    // Thumbnails are encoded like the original (PNG with alpha, else JPEG).
    let cache = if row.visibility == "public" {
        "public, max-age=31536000, immutable"
    } else {
        "private, max-age=3600"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, row.served_type())
        // Users' bytes: nothing in them may run, load or be framed.
        .header(header::CONTENT_SECURITY_POLICY, USER_FILE_CSP)
        .header(header::CACHE_CONTROL, cache)
        .header(header::CONTENT_DISPOSITION, row.disposition(&variant))
        .body(Body::from(bytes))
        .map_err(ApiError::internal)
}

/// `POST /api/files/{id}/link?size=` — a signed link to a file I may read,
/// working for an hour without a bearer token (for `<img src>`).
#[utoipa::path(post, path = "/api/files/{id}/link", tag = "files", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), LinkQuery),
    responses(
        (status = 200, body = FileLink),
        (status = 404, body = ErrorBody),
        (status = 422, description = "No such size", body = ErrorBody),
    ))]
pub async fn link_file(
    State(state): State<AppState>,
    me: AuthUser,
    ValidPath(id): ValidPath<FileId>,
    ValidQuery(query): ValidQuery<LinkQuery>,
) -> Result<Json<FileLink>, ApiError> {
    let (url, expires_at) = super::links::link(&state, me, id, query.size).await?;
    Ok(Json(FileLink { url, expires_at }))
}
