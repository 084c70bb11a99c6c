//! What the file use cases refuse; `http/error/map.rs` gives each its code.

use super::image::ImageError;

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// Also for files the viewer may not read (no id probing).
    #[error("no such file")]
    NotFound,
    #[error("no such user")]
    NoSuchOwner,
    #[error("file uploads are turned off on this server")]
    UploadsOff,
    #[error("{0}")]
    NotAPicture(ImageError),
    #[error("{0}")]
    BadPicture(ImageError),
    #[error("size: one of 256, 64")]
    NoSuchSize,
    #[error("send the file as multipart/form-data with a `file` part")]
    NotMultipart,
    #[error("the file is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("file: missing: add a `file` part")]
    NoFilePart,
    #[error("file: the file is empty")]
    EmptyFile,
    #[error("{0}")]
    Unreadable(String),
    #[error("cannot store the file: {0}")]
    Storage(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
