//! What every validated string type shares.

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
