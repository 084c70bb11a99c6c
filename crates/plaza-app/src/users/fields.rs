//! Profile fields a user may set, validated while the request is read.

use serde::{Deserialize, Deserializer};

/// About me: at most 500 characters.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Bio(pub String);

impl TryFrom<String> for Bio {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim().to_owned();
        if s.chars().count() > 500 {
            return Err("bio must be at most 500 characters".into());
        }
        Ok(Self(s))
    }
}

/// An IANA time zone name known to plaza's bundled database (`Europe/Moscow`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeZoneName(pub String);

impl TryFrom<String> for TimeZoneName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        match jiff::tz::TimeZone::get(s) {
            Ok(_) if !s.is_empty() => Ok(Self(s.to_owned())),
            _ => Err(format!("`{s}` is not a time zone name like Europe/Moscow")),
        }
    }
}

/// The zone a stored time zone name names; UTC for one the bundled database
/// no longer knows.
pub fn zone(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A language tag such as `en`, `ru` or `pt-BR`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Locale(pub String);

impl TryFrom<String> for Locale {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let mut parts = s.split('-');
        let language = parts.next().unwrap_or_default();
        let language_ok =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if language_ok && rest_ok && s.len() <= 35 {
            Ok(Self(s))
        } else {
            Err(format!("`{s}` is not a language tag like en or pt-BR"))
        }
    }
}

/// Preferences: a JSON object of at most 16 KiB.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct Settings(pub serde_json::Value);

impl Settings {
    pub const MAX_BYTES: usize = 16 * 1024;
}

impl TryFrom<serde_json::Value> for Settings {
    type Error = String;
    fn try_from(v: serde_json::Value) -> Result<Self, String> {
        if !v.is_object() {
            return Err("settings must be a JSON object".into());
        }
        if v.to_string().len() > Self::MAX_BYTES {
            return Err("settings must be at most 16 KiB".into());
        }
        Ok(Self(v))
    }
}

/// For fields where `null` means "clear" and absence means "keep":
/// `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_validate() {
        assert!(TimeZoneName::try_from("Europe/Moscow".to_owned()).is_ok());
        assert!(TimeZoneName::try_from("America/Sao_Paulo".to_owned()).is_ok());
        assert!(TimeZoneName::try_from("Mars/Olympus".to_owned()).is_err());
        assert!(TimeZoneName::try_from(String::new()).is_err());
        for ok in ["en", "ru", "pt-BR", "zh-Hant-TW"] {
            assert!(Locale::try_from(ok.to_owned()).is_ok(), "{ok}");
        }
        for bad in ["", "E", "english", "en_US", "en-", "ru-RU-!"] {
            assert!(Locale::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        assert!(Bio::try_from("é".repeat(500)).is_ok());
        assert!(Bio::try_from("é".repeat(501)).is_err());
        assert!(Settings::try_from(serde_json::json!({"theme": "dark"})).is_ok());
        assert!(Settings::try_from(serde_json::json!([1])).is_err());
        let big = serde_json::json!({"x": "y".repeat(16 * 1024)});
        assert!(Settings::try_from(big).is_err());
    }
}
