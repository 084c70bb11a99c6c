//! Files: avatars and attachments. Bytes go to the storage port under keys
//! plaza picks; a row records owner, type and who may read. Served by id
//! through `GET /api/files/{id}`, never by a client's path. Avatars are
//! set through `profiles`.

pub mod error;
mod handlers;
pub mod image;
mod links;
pub mod model;
pub mod service;
mod store;
pub mod upload;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::FilesError;
pub use model::FileView;
pub use service::MAX_AVATAR_BYTES;
pub use store::FileRow;

use crate::http::{LimitClass, ratelimit};
use crate::state::AppState;

/// Upload routes: a body limit with room for the multipart framing around a
/// full-size file, and the `upload` rate limit.
pub fn uploads(
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

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let attachments = OpenApiRouter::new().routes(routes!(handlers::upload_file));
    OpenApiRouter::new()
        .merge(uploads(state, attachments, service::max_upload(state)))
        .routes(routes!(handlers::get_file))
        .routes(routes!(handlers::link_file))
}
