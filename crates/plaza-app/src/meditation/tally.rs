//! The quantities reports are made of: periods of the calendar, a tally of
//! finished sessions, and a report's bucket. Shared by the personal and
//! platform reports and the daily roll-up.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A report's bucket size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// The start of the period holding `date`.
    pub fn start_of(self, date: Date) -> Date {
        match self {
            Self::Day => date,
            Self::Week => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                date.checked_sub(back.days()).unwrap_or(date)
            }
            Self::Month => date.first_of_month(),
        }
    }

    pub fn next(self, start: Date) -> Option<Date> {
        match self {
            Self::Day => start.tomorrow().ok(),
            Self::Week => start.checked_add(1.week()).ok(),
            Self::Month => start.checked_add(1.month()).ok(),
        }
    }

    /// How many periods a request may span, and how many by default.
    pub(super) fn limits(self) -> (usize, usize) {
        match self {
            Self::Day => (366, 30),
            Self::Week => (160, 12),
            Self::Month => (120, 12),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Day => "days",
            Self::Week => "weeks",
            Self::Month => "months",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bucket {
    /// The period's first day (a Monday for weeks, the 1st for months).
    #[schema(value_type = String, format = Date)]
    pub period_start: Date,
    /// People with a session in the period (`scope=platform` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_users: Option<i64>,
    pub sessions: i64,
    pub minutes: f64,
    /// Mean of `mood_after − mood_before` over sessions with both; null
    /// when none has.
    pub average_mood_delta: Option<f64>,
}

/// Finished sessions added up: what a roll-up day stores and a bucket shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub sessions: i64,
    pub seconds: i64,
    /// The sum of `mood_after − mood_before` over `moods` sessions with both.
    pub deltas: i64,
    pub moods: i64,
}

impl Tally {
    pub fn add_session(&mut self, seconds: i64, before: Option<i64>, after: Option<i64>) {
        self.sessions += 1;
        self.seconds += seconds;
        if let (Some(b), Some(a)) = (before, after) {
            self.deltas += a - b;
            self.moods += 1;
        }
    }

    pub fn add(&mut self, other: &Tally) {
        self.sessions += other.sessions;
        self.seconds += other.seconds;
        self.deltas += other.deltas;
        self.moods += other.moods;
    }

    pub fn bucket(&self, period_start: Date) -> Bucket {
        Bucket {
            period_start,
            active_users: None,
            sessions: self.sessions,
            minutes: (self.seconds as f64 / 6.0).round() / 10.0,
            average_mood_delta: (self.moods > 0)
                .then(|| (self.deltas as f64 / self.moods as f64 * 100.0).round() / 100.0),
        }
    }
}
