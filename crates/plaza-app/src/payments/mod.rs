//! Payments (issue 17; seed 004's transactions, seed 001's escrow): a
//! double-entry ledger every movement of money is written to, payments
//! with a lifecycle through a provider port (the sandbox, Stripe,
//! Cryptomus) and their signed webhooks, wallets, refunds, and marketplace
//! escrow. See docs/payments.md.

pub mod error;
pub mod escrow;
mod handlers;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod payment;
pub mod providers;
pub mod refunds;
pub mod service;
pub mod settle;
mod store;
mod transaction_store;
mod webhooks;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use error::PaymentsError;

/// The routes people call, under the general rate limit.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create))
        .routes(routes!(handlers::get))
        .routes(routes!(handlers::refund))
        .routes(routes!(handlers::statement))
        .routes(routes!(handlers::wallet))
        .routes(routes!(handlers::fund_escrow, handlers::get_escrow))
        .routes(routes!(handlers::admin_statement))
        .routes(routes!(handlers::admin_ledger))
}

/// The routes providers and payers' browsers call: no bearer token, no
/// per-client limit (each is authenticated by its own signature).
pub fn webhook_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhooks::webhook))
        .routes(routes!(webhooks::sandbox_page, webhooks::sandbox_click))
        .routes(routes!(webhooks::return_page))
}
