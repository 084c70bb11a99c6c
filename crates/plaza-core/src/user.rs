//! What a user account is made of, validated: `Username`, `DisplayName` and `Role`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A handle: 3–32 characters of letters, digits, `_`, `.` or `-`, starting
/// with a letter or digit. Unique regardless of case; shown as typed.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("username must be 3 to 32 characters")]
    Length,
    #[error(
        "username may hold letters, digits, `_`, `.` and `-`, and must start with a letter or digit"
    )]
    Characters,
}

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let s = raw.trim();
        let len = s.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(UsernameError::Length);
        }
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_alphanumeric());
        if !first_ok || !s.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c)) {
            return Err(UsernameError::Characters);
        }
        Ok(Self(s.to_owned()))
    }

    /// A username made from an email's local part (`Ana.Lima+x` → `ana.lima`),
    /// padded or cut to fit; the caller adds a suffix if it is taken.
    pub fn from_email_local(local: &str) -> Self {
        let base: String = local
            .split('+')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_alphanumeric() || "_.-".contains(*c))
            .flat_map(char::to_lowercase)
            .skip_while(|c| !c.is_alphanumeric())
            .take(Self::MAX - 5)
            .collect();
        let mut name = base;
        while name.chars().count() < Self::MIN {
            name.push('0');
        }
        Self(name)
    }

    /// This name with `suffix` appended, cut so the whole stays valid.
    pub fn with_suffix(&self, suffix: &str) -> Self {
        let keep = Self::MAX.saturating_sub(suffix.chars().count());
        let mut name: String = self.0.chars().take(keep).collect();
        name.push_str(suffix);
        Self(name)
    }
}

crate::text::validated_string!(Username, UsernameError);

/// A name shown to people: 1–64 characters once trimmed, none hidden
/// ([`crate::text::is_hidden`]).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("display name must be 1 to 64 characters")]
    Length,
    #[error("display name must not contain control or invisible characters")]
    Control,
}

impl DisplayName {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > Self::MAX {
            return Err(DisplayNameError::Length);
        }
        if crate::text::has_hidden(s) {
            return Err(DisplayNameError::Control);
        }
        Ok(Self(s.to_owned()))
    }
}

crate::text::validated_string!(DisplayName, DisplayNameError);

/// What an account may do across the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role must be `user` or `admin`")]
pub struct RoleError;

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            _ => Err(RoleError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Ana_Lima ").unwrap().as_str(), "Ana_Lima");
        assert!(Username::parse("ивaн.петров").is_ok());
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::Length));
        assert_eq!(Username::parse("_ana"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("ana lima"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("ana@x"), Err(UsernameError::Characters));
    }

    #[test]
    fn usernames_from_email() {
        assert_eq!(
            Username::from_email_local("Ana.Lima+news").as_str(),
            "ana.lima"
        );
        assert_eq!(Username::from_email_local("jo").as_str(), "jo0");
        assert_eq!(Username::from_email_local("__x").as_str(), "x00");
        let long = Username::from_email_local(&"z".repeat(60));
        assert!(Username::parse(long.as_str()).is_ok());
        let suffixed = long.with_suffix("4821");
        assert!(suffixed.as_str().ends_with("4821"));
        assert!(Username::parse(suffixed.as_str()).is_ok());
        let full = Username::parse(&"a".repeat(32)).unwrap().with_suffix("12");
        assert_eq!(full.as_str(), format!("{}12", "a".repeat(30)));
    }

    #[test]
    fn roles() {
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
        assert_eq!(serde_json::to_string(&Role::User).unwrap(), "\"user\"");
    }
}
