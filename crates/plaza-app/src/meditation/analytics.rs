//! Reports (seed 000's `GET /api/analytics/{daily,weekly,monthly}`): my
//! sessions in buckets of the profile's time zone — days, weeks starting on
//! Monday, months — with empty periods included. Days already rolled up by
//! the `meditation.rollup` job are read from `meditation_daily`; sessions
//! that ended since its watermark are added live, so today is always
//! current and nothing is counted twice.

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use plaza_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{MeditationError, invalid};
use super::tally::{Bucket, Period, Tally};
use crate::http::AuthUser;
use crate::state::AppState;

/// Whose sessions a report counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Mine, in my time zone.
    #[default]
    Me,
    /// Everyone's (admins only): active people, sessions and minutes, each
    /// session on its owner's local day.
    Platform,
}

/// What a report covers.
#[derive(Debug, Default)]
pub struct Range {
    /// First date (`2026-11-01`); default: enough periods back from `to`.
    pub from: Option<String>,
    /// Last date, included; default today.
    pub to: Option<String>,
    pub scope: Option<Scope>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Analytics {
    /// The zone whose days the buckets follow; null for `scope=platform`,
    /// where each session counts on its owner's local day.
    pub time_zone: Option<String>,
    pub buckets: Vec<Bucket>,
}

fn date(value: &str, field: &'static str) -> Result<Date, MeditationError> {
    value
        .parse()
        .map_err(|_| invalid(field, "a date such as 2026-11-01"))
}

/// A rolled-up day.
pub type Day = (Date, Tally);

/// Puts rolled-up `days` and sessions `(started_at, duration_sec,
/// mood_before, mood_after)` into the periods from `from` to `to` (dates in
/// `tz`), empty ones included.
pub fn buckets(
    period: Period,
    from: Date,
    to: Date,
    tz: &jiff::tz::TimeZone,
    days: &[Day],
    sessions: &[(Timestamp, i64, Option<i64>, Option<i64>)],
) -> Vec<Bucket> {
    let mut sums: BTreeMap<Date, Tally> = BTreeMap::new();
    let mut start = period.start_of(from);
    while start <= to {
        sums.insert(start, Tally::default());
        match period.next(start) {
            Some(next) => start = next,
            None => break,
        }
    }
    for (day, tally) in days {
        if let Some(sum) = sums.get_mut(&period.start_of(*day)) {
            sum.add(tally);
        }
    }
    for (at, seconds, before, after) in sessions {
        let day = at.date_in(tz);
        if let Some(sum) = sums.get_mut(&period.start_of(day)) {
            sum.add_session(*seconds, *before, *after);
        }
    }
    sums.into_iter()
        .map(|(period_start, tally)| tally.bucket(period_start))
        .collect()
}

/// The dates a report covers: `from` and `to` as asked, or the defaults
/// counted back from `today`, within the period's limit.
fn dates(period: Period, query: &Range, today: Date) -> Result<(Date, Date), MeditationError> {
    let to = query
        .to
        .as_deref()
        .map(|v| date(v, "to"))
        .transpose()?
        .unwrap_or(today);
    let (max, default) = period.limits();
    let from = match query.from.as_deref() {
        Some(v) => date(v, "from")?,
        None => {
            let mut start = period.start_of(to);
            for _ in 1..default {
                start = match period {
                    Period::Day => start.yesterday().unwrap_or(start),
                    Period::Week => start.checked_sub(1.week()).unwrap_or(start),
                    Period::Month => start.checked_sub(1.month()).unwrap_or(start),
                };
            }
            start
        }
    };
    if from > to {
        return Err(invalid("to", "must not be before `from`"));
    }
    let mut count = 0;
    let mut start = period.start_of(from);
    while start <= to {
        count += 1;
        if count > max {
            return Err(invalid(
                "from",
                format!("at most {max} {} at once", period.name()),
            ));
        }
        start = period.next(start).unwrap_or(to.tomorrow().unwrap_or(to));
    }
    Ok((from, to))
}

/// A report of `period`s over `range`: my sessions in my time zone, or
/// (admins, `scope=platform`) everyone's.
#[tracing::instrument(skip(state, me))]
pub async fn report(
    state: &AppState,
    me: AuthUser,
    period: Period,
    range: Range,
) -> Result<Analytics, MeditationError> {
    if range.scope == Some(Scope::Platform) {
        if !me.is_admin() {
            return Err(MeditationError::PlatformForAdmins);
        }
        let today = state.clock.now().date_in(&jiff::tz::TimeZone::UTC);
        let (from, to) = dates(period, &range, today)?;
        return Ok(Analytics {
            buckets: super::platform::buckets(state, period, from, to).await?,
            time_zone: None,
        });
    }
    let mut conn = state.db.reader().acquire().await?;
    let (time_zone, tz) = crate::users::service::time_zone(&mut conn, me.user_id).await?;
    let today = state.clock.now().date_in(&tz);
    let (from, to) = dates(period, &range, today)?;
    let first = period.start_of(from);
    let since = Timestamp::start_of(first, &tz).map_err(anyhow::Error::from)?;
    let until = to
        .tomorrow()
        .and_then(|d| Timestamp::start_of(d, &tz))
        .map_err(anyhow::Error::from)?;
    let rolled = super::rollup::rolled_through(&mut conn).await?;
    let rows =
        super::store::rolled_days(&mut conn, me.user_id, &first.to_string(), &to.to_string())
            .await?;
    let days: Vec<Day> = rows
        .into_iter()
        .filter_map(|(day, sessions, seconds, deltas, moods)| {
            let tally = Tally {
                sessions,
                seconds,
                deltas,
                moods,
            };
            Some((day.parse().ok()?, tally))
        })
        .collect();
    // Sessions the roll-up has not reached yet.
    let sessions = super::store::unrolled(&mut conn, me.user_id, (since, until), rolled).await?;
    Ok(Analytics {
        buckets: buckets(period, from, to, &tz, &days, &sessions),
        time_zone: Some(time_zone),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Weekday, date as d};

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-11-23 is a Monday.
        assert_eq!(Period::Week.start_of(d(2026, 11, 29)), d(2026, 11, 23));
        assert_eq!(Period::Week.start_of(d(2026, 11, 23)), d(2026, 11, 23));
        assert_eq!(Period::Week.start_of(d(2026, 11, 22)), d(2026, 11, 16));
        assert_eq!(Period::Month.start_of(d(2026, 2, 28)), d(2026, 2, 1));
        assert_eq!(d(2026, 11, 23).weekday(), Weekday::Monday);
    }

    #[test]
    fn buckets_fill_empty_periods_and_follow_the_time_zone() {
        let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
        let at = |s: &str| Timestamp::from_jiff(s.parse().unwrap());
        // 22:30 UTC on the 1st is 01:30 on the 2nd in Moscow.
        let sessions = [
            (at("2026-11-01T22:30:00Z"), 600, Some(2), Some(4)),
            (at("2026-11-02T08:00:00Z"), 300, Some(3), Some(4)),
            (at("2026-11-04T08:00:00Z"), 900, None, None),
        ];
        let days = buckets(
            Period::Day,
            d(2026, 11, 1),
            d(2026, 11, 4),
            &tz,
            &[],
            &sessions,
        );
        let got: Vec<(Date, i64, f64, Option<f64>)> = days
            .iter()
            .map(|b| (b.period_start, b.sessions, b.minutes, b.average_mood_delta))
            .collect();
        assert_eq!(
            got,
            [
                (d(2026, 11, 1), 0, 0.0, None),
                (d(2026, 11, 2), 2, 15.0, Some(1.5)),
                (d(2026, 11, 3), 0, 0.0, None),
                (d(2026, 11, 4), 1, 15.0, None),
            ]
        );
        let weeks = buckets(
            Period::Week,
            d(2026, 11, 1),
            d(2026, 11, 4),
            &tz,
            &[],
            &sessions,
        );
        let got: Vec<(Date, i64)> = weeks.iter().map(|b| (b.period_start, b.sessions)).collect();
        assert_eq!(got, [(d(2026, 10, 26), 0), (d(2026, 11, 2), 3)]);
        // Rolled-up days add to the same periods.
        let day = Tally {
            sessions: 2,
            seconds: 1200,
            deltas: 3,
            moods: 2,
        };
        let rolled = [(d(2026, 10, 27), day)];
        let weeks = buckets(
            Period::Week,
            d(2026, 11, 1),
            d(2026, 11, 4),
            &tz,
            &rolled,
            &sessions,
        );
        assert_eq!(
            (
                weeks[0].sessions,
                weeks[0].minutes,
                weeks[0].average_mood_delta
            ),
            (2, 20.0, Some(1.5))
        );
    }
}
