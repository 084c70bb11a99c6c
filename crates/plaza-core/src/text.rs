//! What every validated string type shares, and the characters no text
//! plaza stores may hold.

/// A character that is not shown, or that changes how what follows is
/// shown: C0/C1 controls, bidirectional marks, overrides and isolates, the
/// zero-width space and invisible operators, the byte-order mark. The
/// zero-width (non-)joiners stay: Persian and Indic names and emoji need them. Names, addresses and titles
/// refuse these, so `admin\u{202e}nimda` cannot pass for another name.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// Whether a name (a display name, a group or room name, a title) holds a
/// hidden character ([`is_hidden`]).
pub fn has_hidden(s: &str) -> bool {
    s.chars().any(is_hidden)
}

/// Where a JSON text escapes the NUL character (`\u0000`), as a byte
/// offset. No database stores NUL in text (PostgreSQL refuses it, FTS5
/// stops at it), so input that holds one is refused before it is read. A
/// raw NUL is already invalid JSON; an escaped backslash followed by
/// `u0000` is not a NUL.
pub fn escaped_nul(json: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1..i + 6) == Some(&b"u0000"[..]) {
                return Some(i);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

/// For a newtype `struct Name(String)` with `Name::parse(&str) -> Result<Name,
/// Error>`: `as_str`, `Display`, `Debug` as `Name(value)`, `FromStr` and
/// `TryFrom<String>` through `parse` (so serde validates while
/// deserialising, with `#[serde(try_from = "String", into = "String")]`),
/// and `From<Name> for String`.
macro_rules! validated_string {
    ($name:ident, $error:ty) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> Self {
                v.0
            }
        }
    };
}

pub(crate) use validated_string;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_an_escaped_nul_only() {
        assert_eq!(escaped_nul(br#"{"a": "x\u0000y"}"#), Some(8));
        assert_eq!(
            escaped_nul(br#"{"a": "x\\u0000y"}"#),
            None,
            "an escaped backslash"
        );
        assert_eq!(escaped_nul(br#"{"a": "x\\\u0000y"}"#), Some(10));
        assert_eq!(escaped_nul(br#"{"a": "\u0001 \n"}"#), None);
        assert_eq!(escaped_nul(b"\\"), None);
        assert_eq!(escaped_nul(b"\\u000"), None, "cut short");
    }

    #[test]
    fn hidden_characters() {
        for c in [
            '\0', '\u{7}', '\u{85}', '\u{200b}', '\u{200e}', '\u{202e}', '\u{2066}', '\u{feff}',
        ] {
            assert!(is_hidden(c), "{c:?}");
        }
        for c in ['a', 'é', 'ж', '🙂', ' ', '\u{2013}', '\u{200c}', '\u{200d}'] {
            assert!(!is_hidden(c), "{c:?}");
        }
        assert!(has_hidden("admin\u{202e}nimda"));
        assert!(!has_hidden("Анна Мария"));
    }
}
