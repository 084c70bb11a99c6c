//! A stored file as JSON, as messages carry it and uploads answer it.

use plaza_core::FileId;
use serde::Serialize;
use utoipa::ToSchema;

use super::store::FileRow;

/// A stored file as JSON.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
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
