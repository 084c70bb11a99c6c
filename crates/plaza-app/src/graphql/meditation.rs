//! Seed 000's meditation over GraphQL: start and end a session, my
//! history, statistics and analytics — the same service calls as
//! `/api/meditation/*`, `/api/user/stats` and `/api/analytics/*`.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};

use super::context::signed_in;
use super::page;
use crate::http::ApiError;
use crate::meditation::{self, Period, Range, Scope, SessionType};

/// A meditation session of mine.
#[derive(SimpleObject)]
pub struct MeditationSession {
    pub id: ID,
    /// `mindfulness`, `breathing`, `body_scan`, `sleep`, `focus`,
    /// `loving_kindness` or `custom`.
    #[graphql(name = "type")]
    pub kind: String,
    pub planned_duration_sec: Option<i64>,
    pub room_id: Option<ID>,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Measured by the server, at most 4 hours.
    pub duration_sec: Option<i64>,
    pub mood_before: Option<i64>,
    pub mood_after: Option<i64>,
    pub notes: Option<String>,
}

impl From<meditation::Session> for MeditationSession {
    fn from(s: meditation::Session) -> Self {
        let kind = serde_json::to_value(s.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            id: ID(s.id.to_string()),
            kind,
            planned_duration_sec: s.planned_duration_sec,
            room_id: s.room_id.map(|r| ID(r.to_string())),
            started_at: s.started_at.to_string(),
            ended_at: s.ended_at.map(|t| t.to_string()),
            duration_sec: s.duration_sec,
            mood_before: s.mood_before,
            mood_after: s.mood_after,
            notes: s.notes,
        }
    }
}

/// An analytics report's buckets.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AnalyticsPeriod {
    Daily,
    Weekly,
    Monthly,
}

/// Whose sessions a report counts.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnalyticsScope {
    /// Mine, in my time zone.
    #[default]
    Me,
    /// Everyone's (admins only).
    Platform,
}

fn session_type(given: Option<String>) -> Result<Option<SessionType>, ApiError> {
    given
        .map(|t| {
            serde_json::from_value(serde_json::Value::String(t.clone())).map_err(|_| {
                ApiError::invalid_field("type", format!("`{t}` is not a session type"))
            })
        })
        .transpose()
}

#[derive(Default)]
pub struct MeditationQuery;

#[Object]
impl MeditationQuery {
    /// My sessions, newest first; optionally of one type, from and to a
    /// time or a date in my time zone.
    #[graphql(complexity = "page::cost(first, 20, child_complexity)")]
    async fn meditation_sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(name = "type")] kind: Option<String>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Connection<usize, MeditationSession>> {
        let (state, me) = signed_in(ctx)?;
        let limit = page::first(first, 20)?;
        let offset = page::offset(after.as_deref())?;
        if offset as i64 % limit != 0 {
            return Err(ApiError::invalid_field("after", "page with the same `first`").into());
        }
        let query = meditation::service::HistoryQuery {
            page: u32::try_from(offset as i64 / limit + 1).unwrap_or(u32::MAX),
            limit,
            kind,
            from,
            to,
        };
        let found = meditation::service::history(state, me, query).await?;
        let mut connection = Connection::new(offset > 0, found.has_more);
        let edges = found.items.into_iter().enumerate();
        connection
            .edges
            .extend(edges.map(|(i, s)| Edge::new(offset + i + 1, MeditationSession::from(s))));
        Ok(connection)
    }

    /// My totals and streaks (as `GET /api/user/stats` answers them).
    async fn meditation_stats(&self, ctx: &Context<'_>) -> Result<Json<meditation::Stats>> {
        let (state, me) = signed_in(ctx)?;
        Ok(Json(meditation::stats(state, me).await?))
    }

    /// Sessions and minutes per day, week or month (as
    /// `GET /api/analytics/{daily,weekly,monthly}` answers them).
    async fn meditation_analytics(
        &self,
        ctx: &Context<'_>,
        period: AnalyticsPeriod,
        from: Option<String>,
        to: Option<String>,
        #[graphql(default)] scope: AnalyticsScope,
    ) -> Result<Json<meditation::Analytics>> {
        let (state, me) = signed_in(ctx)?;
        let period = match period {
            AnalyticsPeriod::Daily => Period::Day,
            AnalyticsPeriod::Weekly => Period::Week,
            AnalyticsPeriod::Monthly => Period::Month,
        };
        let scope = match scope {
            AnalyticsScope::Me => Scope::Me,
            AnalyticsScope::Platform => Scope::Platform,
        };
        let range = Range {
            from,
            to,
            scope: Some(scope),
        };
        Ok(Json(meditation::report(state, me, period, range).await?))
    }
}

#[derive(Default)]
pub struct MeditationMutation;

#[Object]
impl MeditationMutation {
    /// Begins a session (one at a time); with `roomId`, joins what is left
    /// of that room's group session.
    async fn start_meditation(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] kind: Option<String>,
        planned_duration_sec: Option<i64>,
        room_id: Option<ID>,
    ) -> Result<MeditationSession> {
        let (state, me) = signed_in(ctx)?;
        let start = meditation::service::Start {
            kind: session_type(kind)?,
            planned_duration_sec,
            room_id: room_id.map(|r| r.0),
        };
        Ok(meditation::service::start(state, me, start).await?.into())
    }

    /// Ends my active session (or the one named), with moods 1–5 and notes.
    async fn end_meditation(
        &self,
        ctx: &Context<'_>,
        session_id: Option<ID>,
        mood_before: Option<i64>,
        mood_after: Option<i64>,
        notes: Option<String>,
    ) -> Result<MeditationSession> {
        let (state, me) = signed_in(ctx)?;
        let end = meditation::service::End {
            session_id: session_id.map(|s| s.0),
            mood_before,
            mood_after,
            notes,
        };
        Ok(meditation::service::end(state, me, end).await?.into())
    }
}
