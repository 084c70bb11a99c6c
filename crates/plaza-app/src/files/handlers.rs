//! `POST|DELETE /api/profiles/{id}/avatar` and `GET /api/files/{id}`.

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{MAX_AVATAR_BYTES, key, store};
use crate::auth::two_factor_methods;
use crate::http::{ApiError, ErrorBody, ValidQuery};
use crate::http::{AuthUser, MaybeAuthUser};
use crate::state::AppState;
use crate::users::{self, Audience, UserView};

/// The form of an avatar upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AvatarUpload {
    /// PNG, JPEG, WebP or GIF; at most 5 MiB and 40 megapixels.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// For images: `256` or `64` for a square thumbnail.
    size: Option<u32>,
}

async fn may_edit(state: &AppState, me: &AuthUser, id: plaza_core::UserId) -> Result<(), ApiError> {
    users::profile(state, id).await?;
    if id != me.user_id && !me.is_admin() {
        return Err(ApiError::forbidden("you may only change your own avatar"));
    }
    Ok(())
}

/// The `file` part of the form, read up to the limit.
pub(super) async fn read_file(
    multipart: Result<Multipart, MultipartRejection>,
    max: usize,
) -> Result<(Option<String>, Bytes), ApiError> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::unsupported_media_type("send the file as multipart/form-data with a `file` part")
    })?;
    let too_large = || ApiError::payload_too_large(max as u64);
    loop {
        let field = multipart.next_field().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(e.body_text())
            }
        })?;
        let Some(mut field) = field else {
            return Err(ApiError::invalid_field(
                "file",
                "missing: add a `file` part",
            ));
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        let mut bytes = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(e.body_text())
            }
        })? {
            if bytes.len() + chunk.len() > max {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(ApiError::invalid_field("file", "the file is empty"));
        }
        return Ok((name, bytes.freeze()));
    }
}

/// `POST /api/profiles/{id}/avatar` — a new avatar (self or admin). The
/// format is sniffed from the bytes; 256 and 64 px thumbnails are made.
#[utoipa::path(post, path = "/api/profiles/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = AvatarUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The profile with its new `avatar_url`", body = UserView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "Over 5 MiB", body = ErrorBody),
        (status = 415, description = "Not a PNG, JPEG, WebP or GIF", body = ErrorBody),
        (status = 422, description = "Over 40 megapixels, or broken", body = ErrorBody),
    ))]
pub async fn upload_avatar(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<axum::Json<UserView>, ApiError> {
    super::uploads_enabled(&state)?;
    let id = crate::users::id_param(&id)?;
    may_edit(&state, &me, id).await?;
    let (_, bytes) = read_file(multipart, MAX_AVATAR_BYTES).await?;
    super::set_avatar(&state, id, bytes).await?;
    let user = users::profile(&state, id).await?;
    let audience = if id == me.user_id {
        Audience::Own
    } else {
        Audience::Admin
    };
    Ok(axum::Json(
        user.view(audience, two_factor_methods(&state, id).await?),
    ))
}

/// `DELETE /api/profiles/{id}/avatar` — back to no avatar.
#[utoipa::path(delete, path = "/api/profiles/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_avatar(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = crate::users::id_param(&id)?;
    may_edit(&state, &me, id).await?;
    super::clear_avatar(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/files/{id}` — a stored file: public ones to anyone, private
/// ones to their owner, admins, and members of a chat where it is attached.
#[utoipa::path(get, path = "/api/files/{id}", tag = "files",
    params(("id" = String, Path), FileQuery),
    responses(
        (status = 200, description = "The bytes, with their content type", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_file(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<FileQuery>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found("no such file");
    let id: plaza_core::FileId = id.parse().map_err(|_| missing())?;
    let mut conn = state.db.reader().acquire().await?;
    let row = store::find(&mut conn, id).await?.ok_or_else(missing)?;
    drop(conn);
    if !super::may_read(&state, &row, viewer.0).await? {
        return Err(missing());
    }
    let variant = match query.size {
        None => "original".to_owned(),
        Some(size) if row.has_variant(&size.to_string()) => size.to_string(),
        Some(_) => return Err(ApiError::invalid_field("size", "one of 256, 64")),
    };
    let bytes = state
        .storage
        .get(&key(id, &variant))
        .await
        .map_err(|e| ApiError::dependency(e.to_string()))?
        .ok_or_else(missing)?;
    // Thumbnails are encoded like the original (PNG with alpha, else JPEG).
    let content_type = row.content_type.clone();
    let cache = if row.visibility == "public" {
        "public, max-age=31536000, immutable"
    } else {
        "private, max-age=3600"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, cache)
        .header(
            header::CONTENT_DISPOSITION,
            super::disposition(&row, &variant),
        )
        .body(Body::from(bytes))
        .map_err(ApiError::internal)
}
