//! Who is calling, once authentication has established it. The auth layer
//! puts a `Principal` in the request's extensions; rate limits keyed by user
//! and the auth extractors read it.

use plaza_core::{Role, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
}
