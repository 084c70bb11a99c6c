//! Proving an address and recovering an account (`/api/auth/verify-email*`,
//! `/api/auth/password/*`, `/api/auth/email/*`).

pub(crate) mod handlers;
pub mod service;
