//! Notification templates: admins write each type's wording per channel
//! and locale.

pub(super) mod handlers;
pub mod service;
