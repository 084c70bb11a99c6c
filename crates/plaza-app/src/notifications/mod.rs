//! Notifications (seed 001, issue 5): in-app notifications, subscriptions
//! per type and channel with quiet hours, admin-written templates, and
//! delivery through jobs — an in-app row, a `notification` socket event,
//! and mail on the `email` queue (which also carries the account mails).
//!
//! Modules notify with [`send`] inside their own transaction, so a
//! notification is delivered if and only if the change committed.

mod deliver;
pub mod error;
mod handlers;
pub mod mail;
mod model;
mod render;
pub mod service;
mod store;
mod templates;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use deliver::{Deliver, quiet_until, send, send_once};
pub use error::NotificationsError;
pub use model::{Channel, Notice, Notification};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::list, handlers::send))
        .routes(routes!(handlers::unread_count))
        .routes(routes!(handlers::read_all))
        .routes(routes!(
            handlers::subscriptions,
            handlers::update_subscriptions
        ))
        .routes(routes!(handlers::mark, handlers::delete))
        .routes(routes!(
            templates::handlers::list,
            templates::handlers::create
        ))
        .routes(routes!(templates::handlers::preview))
        .routes(routes!(
            templates::handlers::get,
            templates::handlers::update,
            templates::handlers::delete
        ))
}
