//! `Timestamp`: an instant in UTC with microsecond precision, written the same
//! way everywhere (JSON, database, logs): `2026-11-23T10:15:03.123456Z`.
//!
//! The fixed width makes the text form sort like the instant, so both
//! databases can compare and index timestamps stored as text.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::fmt::temporal::DateTimePrinter;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in UTC, truncated to whole microseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

static PRINTER: DateTimePrinter = DateTimePrinter::new().precision(Some(6));

impl Timestamp {
    pub const UNIX_EPOCH: Self = Self(jiff::Timestamp::UNIX_EPOCH);

    /// Truncates to the microsecond, the precision both databases keep.
    pub fn from_jiff(t: jiff::Timestamp) -> Self {
        let micros = t.as_microsecond();
        Self(jiff::Timestamp::from_microsecond(micros).unwrap_or(t))
    }

    pub fn as_jiff(self) -> jiff::Timestamp {
        self.0
    }

    /// `self + d`, saturating at the largest representable instant.
    pub fn saturating_add(self, d: Duration) -> Self {
        let signed = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
        Self(
            self.0
                .saturating_add(signed)
                .unwrap_or(jiff::Timestamp::MAX),
        )
    }

    /// `self - d`, saturating at the smallest representable instant.
    pub fn saturating_sub(self, d: Duration) -> Self {
        let signed = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
        Self(
            self.0
                .saturating_sub(signed)
                .unwrap_or(jiff::Timestamp::MIN),
        )
    }

    /// The instant `secs` seconds after 1970 (JWT's `NumericDate`),
    /// clamped to the representable range.
    pub fn from_unix_seconds(secs: i64) -> Self {
        Self(jiff::Timestamp::from_second(secs).unwrap_or(if secs < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        }))
    }

    /// Whole seconds since 1970 (JWT's `NumericDate`).
    pub fn unix_seconds(self) -> i64 {
        self.0.as_second()
    }

    /// The calendar date of this instant in `zone`.
    pub fn date_in(self, zone: &jiff::tz::TimeZone) -> jiff::civil::Date {
        zone.to_datetime(self.0).date()
    }

    /// The first instant of `date` in `zone` (midnight, or whenever a
    /// daylight-saving change lets the day begin); an error only for dates
    /// out of jiff's range.
    pub fn start_of(
        date: jiff::civil::Date,
        zone: &jiff::tz::TimeZone,
    ) -> Result<Self, jiff::Error> {
        Ok(Self::from_jiff(date.to_zoned(zone.clone())?.timestamp()))
    }

    /// How long after `earlier` this instant is; zero when it is not after.
    pub fn duration_since(self, earlier: Self) -> Duration {
        let d = self.0.duration_since(earlier.0);
        Duration::try_from(d).unwrap_or(Duration::ZERO)
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(t: jiff::Timestamp) -> Self {
        Self::from_jiff(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = String::with_capacity(27);
        PRINTER
            .print_timestamp(&self.0, &mut buf)
            .map_err(|_| fmt::Error)?;
        f.write_str(&buf)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Timestamp {
    type Err = jiff::Error;

    /// Accepts any RFC 3339 instant (with an offset or `Z`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<jiff::Timestamp>().map(Self::from_jiff)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_their_first_instants_follow_the_zone() {
        let moscow = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
        let at: Timestamp = "2026-11-01T22:30:00Z".parse().unwrap();
        assert_eq!(at.date_in(&moscow), jiff::civil::date(2026, 11, 2));
        assert_eq!(
            at.date_in(&jiff::tz::TimeZone::UTC),
            jiff::civil::date(2026, 11, 1)
        );
        let start = Timestamp::start_of(jiff::civil::date(2026, 11, 2), &moscow).unwrap();
        assert_eq!(start.to_string(), "2026-11-01T21:00:00.000000Z");
    }

    #[test]
    fn text_form_has_fixed_width_and_sorts_like_the_instant() {
        let a: Timestamp = "2026-11-23T10:15:03Z".parse().unwrap();
        let b: Timestamp = "2026-11-23T10:15:03.5+00:00".parse().unwrap();
        assert_eq!(a.to_string(), "2026-11-23T10:15:03.000000Z");
        assert_eq!(b.to_string(), "2026-11-23T10:15:03.500000Z");
        assert!(a.to_string() < b.to_string());
        assert!(a < b);
    }

    #[test]
    fn offsets_are_converted_to_utc_and_nanos_truncated() {
        let t: Timestamp = "2026-01-01T03:00:00.123456789+03:00".parse().unwrap();
        assert_eq!(t.to_string(), "2026-01-01T00:00:00.123456Z");
    }

    #[test]
    fn round_trips_through_serde() {
        let t: Timestamp = "2030-05-06T07:08:09.000001Z".parse().unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2030-05-06T07:08:09.000001Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn durations() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let later = t.saturating_add(Duration::from_millis(1500));
        assert_eq!(later.duration_since(t), Duration::from_millis(1500));
        assert_eq!(t.duration_since(later), Duration::ZERO);
    }
}
