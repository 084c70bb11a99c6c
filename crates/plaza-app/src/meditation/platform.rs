//! `?scope=platform` (admins): everyone's sessions in the same periods as a
//! person's report — active people, sessions, minutes, mood — each session
//! counted on its owner's local day, as the roll-up stores it. Rolled-up
//! days are summed in SQL, one row per period; the live tail (sessions
//! since the roll-up's watermark) is added in Rust, and a person active in
//! both is counted once.

use std::collections::{BTreeMap, BTreeSet};

use jiff::ToSpan;
use jiff::civil::Date;
use plaza_core::{Timestamp, UserId};
use plaza_platform::db::{Backend, placeholders};

use super::error::MeditationError;
use super::tally::{Bucket, Period, Tally};
use crate::state::AppState;

/// People looked up per statement when the tail is checked against the
/// rolled-up days.
const CHUNK: usize = 500;

/// The SQL naming the period of `meditation_daily.day` (`YYYY-MM-DD`).
fn period_of_day(backend: Backend, period: Period) -> &'static str {
    match (period, backend) {
        (Period::Day, _) => "day",
        (Period::Month, _) => "substr(day, 1, 7) || '-01'",
        (Period::Week, Backend::Sqlite) => "date(day, '-6 days', 'weekday 1')",
        (Period::Week, Backend::Postgres) => {
            "to_char(date_trunc('week', CAST(day AS date)), 'YYYY-MM-DD')"
        }
    }
}

type TailRow = (UserId, String, Timestamp, i64, Option<i64>, Option<i64>);

pub async fn buckets(
    state: &AppState,
    period: Period,
    from: Date,
    to: Date,
) -> Result<Vec<Bucket>, MeditationError> {
    let first = period.start_of(from);
    let mut sums = Sums::new();
    let mut start = first;
    while start <= to {
        sums.insert(start, (Tally::default(), 0));
        match period.next(start) {
            Some(next) => start = next,
            None => break,
        }
    }
    let mut conn = state.db.reader().acquire().await?;
    add_rolled(
        &mut conn,
        state.db.backend(),
        period,
        (first, to),
        &mut sums,
    )
    .await?;
    add_tail(&mut conn, period, (first, to), &mut sums).await?;
    Ok(sums
        .into_iter()
        .map(|(start, (tally, active))| Bucket {
            active_users: Some(active),
            ..tally.bucket(start)
        })
        .collect())
}

/// Each period's people and sessions.
type Sums = BTreeMap<Date, (Tally, i64)>;

/// Adds the rolled-up days between `first` and `to`, summed per period in SQL.
async fn add_rolled(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    period: Period,
    (first, to): (Date, Date),
    sums: &mut Sums,
) -> Result<(), MeditationError> {
    let key = period_of_day(backend, period);
    let rolled: Vec<(String, i64, i64, i64, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {key}, CAST(COUNT(DISTINCT user_id) AS BIGINT), CAST(SUM(sessions) AS BIGINT), \
             CAST(SUM(seconds) AS BIGINT), CAST(SUM(mood_delta_sum) AS BIGINT), \
             CAST(SUM(mood_count) AS BIGINT) FROM meditation_daily \
             WHERE day >= $1 AND day <= $2 GROUP BY 1"
        )))
        .bind(first.to_string())
        .bind(to.to_string())
        .fetch_all(&mut *conn)
        .await?;
    for (start, people, sessions, seconds, deltas, moods) in rolled {
        let Some((tally, active)) = start.parse().ok().and_then(|d: Date| sums.get_mut(&d)) else {
            continue;
        };
        tally.add(&Tally {
            sessions,
            seconds,
            deltas,
            moods,
        });
        *active += people;
    }

    Ok(())
}

/// Adds the live tail: sessions that ended after the watermark, started
/// within a day either side of the range in UTC (local days are offset from
/// it by at most 14 hours), placed on their owners' local days; a person
/// already counted from rolled-up days in a period is not counted again.
async fn add_tail(
    conn: &mut sqlx::AnyConnection,
    period: Period,
    (first, to): (Date, Date),
    sums: &mut Sums,
) -> Result<(), MeditationError> {
    let watermark = super::rollup::rolled_through(&mut *conn).await?;
    let utc =
        |d: Date| Timestamp::start_of(d, &jiff::tz::TimeZone::UTC).map_err(anyhow::Error::from);
    let since = utc(first.checked_sub(1.day()).unwrap_or(first))?;
    let until = utc(to.checked_add(2.days()).unwrap_or(to))?;
    let tail: Vec<TailRow> = sqlx::query_as(
        "SELECT s.user_id, u.timezone, s.started_at, s.duration_sec, s.mood_before, \
         s.mood_after FROM meditation_sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.ended_at > $1 AND s.started_at >= $2 AND s.started_at < $3",
    )
    .bind(watermark)
    .bind(since)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    let mut newcomers: BTreeMap<Date, BTreeSet<UserId>> = BTreeMap::new();
    for (user, zone, at, seconds, before, after) in tail {
        let day = at.date_in(&crate::users::fields::zone(&zone));
        if day < first || day > to {
            continue;
        }
        let start = period.start_of(day);
        if let Some((tally, _)) = sums.get_mut(&start) {
            tally.add_session(seconds, before, after);
            newcomers.entry(start).or_default().insert(user);
        }
    }
    // Those of the tail's people already counted from the rolled-up days.
    let people: BTreeSet<UserId> = newcomers.values().flatten().copied().collect();
    for (user, day) in rolled_days_of(conn, (first, to), people).await? {
        if let Ok(day) = day.parse::<Date>()
            && let Some(set) = newcomers.get_mut(&period.start_of(day))
        {
            set.remove(&user);
        }
    }
    for (start, set) in newcomers {
        if let Some((_, active)) = sums.get_mut(&start) {
            *active += i64::try_from(set.len()).unwrap_or(i64::MAX);
        }
    }
    Ok(())
}

/// The rolled-up days between `first` and `to` of each of `people`.
async fn rolled_days_of(
    conn: &mut sqlx::AnyConnection,
    (first, to): (Date, Date),
    people: BTreeSet<UserId>,
) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    let people: Vec<UserId> = people.into_iter().collect();
    let mut found = Vec::new();
    for chunk in people.chunks(CHUNK) {
        let sql = format!(
            "SELECT user_id, day FROM meditation_daily WHERE day >= $1 AND day <= $2 \
             AND user_id IN ({})",
            placeholders(3, chunk.len())
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(first.to_string())
            .bind(to.to_string());
        for user in chunk {
            query = query.bind(*user);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}
