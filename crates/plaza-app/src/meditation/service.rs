//! Meditation sessions (seed 000): starting one (alone, or joining what is
//! left of a room's group session), ending it with moods and notes, and
//! one's history.

use plaza_core::{MeditationId, Timestamp, UserId};
use plaza_platform::db::unique_violation;

use super::error::{MeditationError, invalid};
use super::model::{MAX_SESSION_SEC, Session, SessionType};
use super::record::{self, EndedBy};
use super::store::{self, HistoryFilter};
use crate::http::AuthUser;
use crate::state::AppState;
use crate::users;

/// What a start asks for.
#[derive(Debug, Default)]
pub struct Start {
    pub kind: Option<SessionType>,
    pub planned_duration_sec: Option<i64>,
    /// A room whose group session is under way: the session joins what is
    /// left of it (its type and length are the room's).
    pub room_id: Option<String>,
}

/// What an end records.
#[derive(Debug, Default)]
pub struct End {
    /// The active session (default: whichever is active).
    pub session_id: Option<String>,
    pub mood_before: Option<i64>,
    pub mood_after: Option<i64>,
    pub notes: Option<String>,
}

/// Which of my sessions a history page shows.
#[derive(Debug, Default)]
pub struct HistoryQuery {
    pub page: u32,
    pub limit: i64,
    pub kind: Option<String>,
    /// An RFC 3339 time, or a date (midnight in my time zone).
    pub from: Option<String>,
    /// An RFC 3339 time, or a date (that whole day included).
    pub to: Option<String>,
}

/// A page of my sessions, newest first.
#[derive(Debug)]
pub struct HistoryPage {
    pub items: Vec<Session>,
    pub total: i64,
    pub has_more: bool,
}

/// Begins a session; one at a time.
#[tracing::instrument(skip(state, me))]
pub async fn start(
    state: &AppState,
    me: AuthUser,
    start: Start,
) -> Result<Session, MeditationError> {
    if let Some(planned) = start.planned_duration_sec
        && !(1..=MAX_SESSION_SEC).contains(&planned)
    {
        return Err(invalid(
            "planned_duration_sec",
            format!("1 to {MAX_SESSION_SEC} seconds"),
        ));
    }
    let mut work = state.work().await?;
    let now = work.now();
    let session = match &start.room_id {
        Some(room) => super::rooms::round::joining(&mut work, room, &me, now).await?,
        None => Session {
            id: MeditationId::new(),
            kind: start.kind.unwrap_or(SessionType::Mindfulness),
            planned_duration_sec: start.planned_duration_sec,
            room_id: None,
            round_id: None,
            started_at: now,
            ended_at: None,
            duration_sec: None,
            mood_before: None,
            mood_after: None,
            notes: None,
        },
    };
    if let Err(e) = store::insert(&mut work, me.user_id, &session).await {
        drop(work);
        return Err(if unique_violation(&e).is_some() {
            already_active(state, me.user_id).await
        } else {
            e.into()
        });
    }
    record::started(&mut work, me.user_id, &session, now).await?;
    work.commit().await?;
    Ok(session)
}

/// The 409 for a second start, with the active session in it when it can
/// be read.
async fn already_active(state: &AppState, user: UserId) -> MeditationError {
    let active = match state.db.writer().acquire().await {
        Ok(mut conn) => store::active(&mut conn, user).await.ok().flatten(),
        Err(_) => None,
    };
    MeditationError::AlreadyActive(active.map(Box::new))
}

/// Finishes the active session (or the one named), with moods and notes.
#[tracing::instrument(skip(state, me, end))]
pub async fn end(state: &AppState, me: AuthUser, end: End) -> Result<Session, MeditationError> {
    for (field, mood) in [
        ("mood_before", end.mood_before),
        ("mood_after", end.mood_after),
    ] {
        if mood.is_some_and(|m| !(1..=5).contains(&m)) {
            return Err(invalid(field, "1 to 5"));
        }
    }
    let notes = end
        .notes
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(invalid("notes", "at most 2000 characters"));
    }
    let mut work = state.work().await?;
    let now = work.now();
    let mut session = match &end.session_id {
        Some(id) => {
            let id = id.parse().map_err(|_| MeditationError::SessionNotFound)?;
            store::find(&mut work, me.user_id, id)
                .await?
                .ok_or(MeditationError::SessionNotFound)?
        }
        None => store::active(&mut work, me.user_id)
            .await?
            .ok_or(MeditationError::NoneActive)?,
    };
    if session.ended_at.is_some() {
        return Err(MeditationError::Ended(Some(Box::new(session))));
    }
    session.end_at(now);
    session.mood_before = end.mood_before;
    session.mood_after = end.mood_after;
    session.notes = notes;
    if !store::finish(&mut work, me.user_id, &session).await? {
        return Err(MeditationError::Ended(None));
    }
    record::ended(&mut work, me.user_id, &session, EndedBy::Owner, now).await?;
    work.after_commit(super::stats::invalidate(state, me.user_id));
    work.commit().await?;
    Ok(session)
}

/// A query bound: a time as given, or a date's midnight in `tz` (the next
/// day's for an inclusive end).
fn bound(
    value: &str,
    field: &'static str,
    zone: &jiff::tz::TimeZone,
    end: bool,
) -> Result<Timestamp, MeditationError> {
    if let Ok(t) = value.parse::<jiff::Timestamp>() {
        return Ok(Timestamp::from_jiff(t));
    }
    let bad = || invalid(field, "an RFC 3339 time or a date such as 2026-11-01");
    let date: jiff::civil::Date = value.parse().map_err(|_| bad())?;
    let date = if end {
        date.tomorrow().map_err(|_| bad())?
    } else {
        date
    };
    Timestamp::start_of(date, zone).map_err(|_| bad())
}

/// My sessions, newest first, filtered by type and time.
#[tracing::instrument(skip(state, me))]
pub async fn history(
    state: &AppState,
    me: AuthUser,
    query: HistoryQuery,
) -> Result<HistoryPage, MeditationError> {
    let page = query.page;
    if page == 0 || page > 100_000 {
        return Err(invalid("page", "from 1"));
    }
    if let Some(kind) = &query.kind
        && SessionType::parse(kind).is_none()
    {
        return Err(invalid(
            "type",
            "one of mindfulness, breathing, body_scan, sleep, focus, loving_kindness, custom",
        ));
    }
    let mut conn = state.db.reader().acquire().await?;
    let (_, tz) = users::service::time_zone(&mut conn, me.user_id).await?;
    let from = query
        .from
        .as_deref()
        .map(|v| bound(v, "from", &tz, false))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|v| bound(v, "to", &tz, true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(invalid("to", "must be after `from`"));
    }
    let filter = HistoryFilter {
        kind: query.kind.as_deref(),
        from,
        to,
    };
    let offset = i64::from(page - 1) * query.limit;
    let (items, total) =
        store::history(&mut conn, me.user_id, &filter, query.limit, offset).await?;
    Ok(HistoryPage {
        has_more: offset + (items.len() as i64) < total,
        items,
        total,
    })
}
