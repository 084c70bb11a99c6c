use plaza_core::{Email, Role, Timestamp, UserId, Username};
use serde::Serialize;

use super::password::Password;

/// An account, as the rest of plaza sees it (never with its password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub username: Username,
    pub display_name: Option<String>,
    pub role: Role,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What it takes to make an account.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: Email,
    /// Made from the email when absent.
    pub username: Option<Username>,
    pub display_name: Option<String>,
    pub password: Password,
    pub role: Role,
}
