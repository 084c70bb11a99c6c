//! Payments (issue 17, seed 004's transactions and seed 001's escrow).
//! So far the double-entry ledger every money movement will be written
//! to; payments, providers and escrow build on it.

pub mod error;
pub mod ledger;
mod model;
mod store;
