use plaza_core::{Email, FileId, Role, Timestamp, UserId, Username};
use serde::Serialize;
use utoipa::ToSchema;

use super::password::Password;

/// An account, as the rest of plaza sees it (never with its password hash).
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub username: Username,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_id: Option<FileId>,
    pub timezone: String,
    pub locale: String,
    /// The user's preferences: a JSON object only they (and admins) see.
    pub settings: serde_json::Value,
    pub role: Role,
    pub email_verified: bool,
    pub banned_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The columns [`UserRow`] reads, for `concat!("SELECT ", user_columns!(), " FROM users …")`.
macro_rules! user_columns {
    () => {
        "id, email, username, display_name, bio, avatar_id, timezone, locale, settings, \
         role, email_verified, banned_at, created_at, updated_at"
    };
}
pub(crate) use user_columns;

/// A `users` row as the database returns it (booleans as integers, JSON as text).
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: UserId,
    email: Email,
    username: Username,
    display_name: Option<String>,
    bio: Option<String>,
    avatar_id: Option<FileId>,
    timezone: String,
    locale: String,
    settings: String,
    role: Role,
    email_verified: i64,
    banned_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            username: r.username,
            display_name: r.display_name,
            bio: r.bio,
            avatar_id: r.avatar_id,
            timezone: r.timezone,
            locale: r.locale,
            // Written only by plaza as a JSON object; anything else reads as empty.
            settings: serde_json::from_str(&r.settings)
                .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
            role: r.role,
            email_verified: r.email_verified != 0,
            banned_at: r.banned_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What it takes to make an account.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: Email,
    /// Made from the email when absent.
    pub username: Option<Username>,
    pub display_name: Option<String>,
    /// `None` for accounts that sign in another way (OAuth, an invitation).
    pub password: Option<Password>,
    pub role: Role,
    pub email_verified: bool,
}

/// A user as JSON. Whom it is shown to decides what it holds: the email to
/// the user and admins only, `settings` to the user only.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, example = "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b")]
    pub id: UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Email)]
    pub email: Option<Email>,
    #[schema(value_type = String)]
    pub username: Username,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    /// `/api/files/{id}` of the 256 px avatar; `null` without one.
    pub avatar_url: Option<String>,
    pub timezone: String,
    pub locale: String,
    #[schema(value_type = String, example = "user")]
    pub role: Role,
    pub email_verified: bool,
    /// Second factors enabled (`totp`, `email`); shown to the user and admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_factor: Option<Vec<String>>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
}

/// Who is looking at a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The user themself.
    Own,
    Admin,
    Other,
}

impl User {
    pub fn view(&self, audience: Audience, two_factor: Vec<String>) -> UserView {
        let private = audience != Audience::Other;
        UserView {
            id: self.id,
            email: private.then(|| self.email.clone()),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            bio: self.bio.clone(),
            avatar_url: self.avatar_id.map(|id| format!("/api/files/{id}")),
            timezone: self.timezone.clone(),
            locale: self.locale.clone(),
            role: self.role,
            email_verified: self.email_verified,
            two_factor: private.then_some(two_factor),
            created_at: self.created_at,
            settings: (audience == Audience::Own).then(|| self.settings.clone()),
        }
    }
}
