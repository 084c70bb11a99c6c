//! Reading an upload: the `file` part of a `multipart/form-data` body, up
//! to a limit. A future the services run once they have checked who may
//! upload what, so nothing is read for a request that is refused anyway.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;
use bytes::{Bytes, BytesMut};

use super::error::FilesError;

/// An upload's file name (as the client gave it) and bytes.
pub type Upload = (Option<String>, Bytes);

/// Reads the `file` part of the form, at most `max` bytes.
pub async fn read(
    multipart: Result<Multipart, MultipartRejection>,
    max: usize,
) -> Result<Upload, FilesError> {
    let mut multipart = multipart.map_err(|_| FilesError::NotMultipart)?;
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FilesError::TooLarge(max)
        } else {
            FilesError::Unreadable(e.body_text())
        }
    };
    loop {
        let Some(mut field) = multipart.next_field().await.map_err(failed)? else {
            return Err(FilesError::NoFilePart);
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        let mut bytes = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(failed)? {
            if bytes.len() + chunk.len() > max {
                return Err(FilesError::TooLarge(max));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(FilesError::EmptyFile);
        }
        return Ok((name, bytes.freeze()));
    }
}
