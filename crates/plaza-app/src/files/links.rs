//! Signed, expiring links to files: a URL that proves its holder may read
//! the file until it expires, so it can go in an `<img>` or a download
//! without a bearer header. Signed with a key derived from the token
//! signing key (every node has it); a link names the file, the size and
//! the expiry, so none of them can be changed.

use std::time::Duration;

use plaza_core::{FileId, Timestamp};

use super::error::FilesError;
use super::service;
use crate::http::AuthUser;
use crate::state::AppState;

/// How long a link works.
pub const LINK_TTL: Duration = Duration::from_secs(3600);

/// A link to `id` (at `size`) for `viewer`, who may read it now.
#[tracing::instrument(skip(state, viewer))]
pub async fn link(
    state: &AppState,
    viewer: AuthUser,
    id: FileId,
    size: Option<u32>,
) -> Result<(String, Timestamp), FilesError> {
    let row = service::readable(state, Some(viewer), id).await?;
    service::variant(&row, size)?;
    let now = state.clock.now();
    let expires = now.saturating_add(LINK_TTL);
    let signer = state
        .auth
        .signer(&state.db, &state.config.auth, now)
        .await?;
    let exp = expires.unix_seconds();
    let sig = signer.sign_link(&message(id, size, exp));
    let size = size.map(|s| format!("size={s}&")).unwrap_or_default();
    Ok((
        format!("/api/files/{id}?{size}expires={exp}&sig={sig}"),
        expires,
    ))
}

/// Whether `sig` is a link's for `id` at `size` that has not expired.
pub async fn valid(
    state: &AppState,
    id: FileId,
    size: Option<u32>,
    expires: i64,
    sig: &str,
) -> Result<bool, FilesError> {
    let now = state.clock.now();
    if expires <= now.unix_seconds() {
        return Ok(false);
    }
    let signer = state
        .auth
        .signer(&state.db, &state.config.auth, now)
        .await?;
    Ok(signer.verify_link(&message(id, size, expires), sig))
}

fn message(id: FileId, size: Option<u32>, expires: i64) -> String {
    let size = size.map_or_else(|| "original".to_owned(), |s| s.to_string());
    format!("file:{id}:{size}:{expires}")
}
