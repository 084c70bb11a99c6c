//! Human-friendly configuration values: durations (`30s`, `15m`), sizes
//! (`2MiB`), request rates (`5/15m`), lists (`a,b` or `["a", "b"]`) and
//! connection strings whose password never shows.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Parses `500ms`, `30s`, `15m`, `2h`, `7d`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (try 500ms, 30s, 15m, 2h or 7d)"))?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(format!(
                "`{other}` is not a duration unit (use ms, s, m, h or d)"
            ));
        }
    };
    n.checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{s}` is too long a duration"))
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// A duration written the way people write them: `30s`, `15m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match StringOrInt::deserialize(d)? {
            StringOrInt::Int(n) => Ok(Self(Duration::from_secs(n))),
            StringOrInt::Str(s) => parse_duration(&s).map(Self).map_err(de::Error::custom),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrInt {
    Int(u64),
    Str(String),
}

/// A size in bytes: `65536`, `64KiB`, `2MiB`, `1GB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("`{s}` is not a size (try 65536, 64KiB or 2MiB)"))?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1_000,
            "kib" | "k" => 1 << 10,
            "mb" => 1_000_000,
            "mib" | "m" => 1 << 20,
            "gb" => 1_000_000_000,
            "gib" | "g" => 1 << 30,
            other => {
                return Err(format!(
                    "`{other}` is not a size unit (use B, KiB, MiB or GiB)"
                ));
            }
        };
        n.checked_mul(mult)
            .map(Self)
            .ok_or_else(|| format!("`{s}` is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match StringOrInt::deserialize(d)? {
            StringOrInt::Int(n) => Ok(Self(n)),
            StringOrInt::Str(s) => s.parse().map_err(de::Error::custom),
        }
    }
}

/// A request rate: `count` requests per `period`, written `5/15m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    pub const fn new(count: u32, period: Duration) -> Self {
        Self { count, period }
    }

    /// The spacing between requests at a steady pace (the GCRA emission interval).
    pub fn interval(&self) -> Duration {
        self.period / self.count.max(1)
    }
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (count, period) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a rate (write requests/period, e.g. 5/15m)"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("`{count}` is not a whole number of requests"))?;
        let period = parse_duration(period)?;
        if count == 0 || period.is_zero() {
            return Err(format!(
                "`{s}`: requests and period must both be above zero"
            ));
        }
        Ok(Self { count, period })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, format_duration(self.period))
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

/// A list written as a TOML array or, in an environment variable, `a,b,c`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            List(Vec<String>),
            One(String),
        }
        let items = match Raw::deserialize(d)? {
            Raw::List(v) => v,
            Raw::One(s) => s.split(',').map(str::to_owned).collect(),
        };
        Ok(Self(
            items
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        ))
    }
}

/// A connection string (`postgres://user:secret@host/db`). `Debug`,
/// `Display` and `Serialize` hide the password; only [`Dsn::expose`] shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Dsn(String);

impl Dsn {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme before `:`, lower-cased.
    pub fn scheme(&self) -> String {
        self.0
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The string with any password replaced by `********`.
    pub fn masked(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let Some((userinfo, host)) = authority.rsplit_once('@') else {
            return self.0.clone();
        };
        let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
        if userinfo.contains(':') {
            format!("{scheme}://{user}:********@{host}{tail}")
        } else if user.is_empty() {
            self.0.clone()
        } else if scheme.starts_with("redis") {
            // `redis://secret@host`: a lone userinfo is the password.
            format!("{scheme}://********@{host}{tail}")
        } else {
            self.0.clone()
        }
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dsn({})", self.masked())
    }
}

impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for Dsn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// A secret setting (a signing key, a client secret): `Debug`, `Display`
/// and `Serialize` show `********`; only [`Secret::expose`] gives the value.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("********")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert_eq!(HumanDuration(Duration::from_secs(900)).to_string(), "15m");
        assert_eq!(
            HumanDuration(Duration::from_millis(1500)).to_string(),
            "1500ms"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!("2MiB".parse(), Ok(ByteSize(2 << 20)));
        assert_eq!("64kib".parse(), Ok(ByteSize(64 << 10)));
        assert_eq!("1000".parse(), Ok(ByteSize(1000)));
        assert!("2 lots".parse::<ByteSize>().is_err());
        assert_eq!(ByteSize(2 << 20).to_string(), "2MiB");
    }

    #[test]
    fn rates() {
        let r: Rate = "5/15m".parse().unwrap();
        assert_eq!((r.count, r.period), (5, Duration::from_secs(900)));
        assert_eq!(r.interval(), Duration::from_secs(180));
        assert_eq!(r.to_string(), "5/15m");
        for bad in ["5", "0/1m", "5/0s", "x/1m", "5/fortnight"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_from_env_or_toml() {
        let from_env: StringList = serde_json::from_str("\"https://a.io, https://b.io,\"").unwrap();
        assert_eq!(from_env.0, ["https://a.io", "https://b.io"]);
        let from_toml: StringList = serde_json::from_str("[\"*\"]").unwrap();
        assert_eq!(from_toml.0, ["*"]);
    }

    #[test]
    fn dsn_hides_passwords() {
        let pg = Dsn::new("postgres://plaza:hunter2@db.internal:5432/plaza?sslmode=require");
        assert_eq!(
            pg.masked(),
            "postgres://plaza:********@db.internal:5432/plaza?sslmode=require"
        );
        assert!(!format!("{pg:?} {pg}").contains("hunter2"));
        assert_eq!(
            Dsn::new("redis://:s3cret@cache:6379/0").masked(),
            "redis://:********@cache:6379/0"
        );
        assert_eq!(
            Dsn::new("redis://s3cret@cache").masked(),
            "redis://********@cache"
        );
        assert_eq!(
            Dsn::new("postgres://plaza@db/plaza").masked(),
            "postgres://plaza@db/plaza"
        );
        assert_eq!(
            Dsn::new("sqlite://./data/plaza.db").masked(),
            "sqlite://./data/plaza.db"
        );
        assert_eq!(pg.scheme(), "postgres");
    }
}
