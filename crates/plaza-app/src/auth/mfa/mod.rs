//! Second factors (seed 004's codes by email, authenticator apps, recovery
//! codes) and the two-step sign-in they bring: a correct password yields an
//! MFA challenge, and a code for one of the account's factors completes it.

pub mod factors;
pub(crate) mod handlers;
pub mod service;
mod store;
pub mod totp;
