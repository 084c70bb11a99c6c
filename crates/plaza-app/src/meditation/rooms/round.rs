//! A room's group session (a *round*): the host starts it for everyone in
//! the room, people who come later join what is left of it, people who
//! leave end their part early, and it ends for the rest when the host says
//! so, when the room closes, or at its end time (the `meditation.room_end`
//! job, which runs on whichever node is free). Each participant's part is
//! an ordinary session — the same table, events and stats as a solo one.

use std::time::Duration;

use plaza_core::{MeditationId, RoomId, RoundId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::fanout;
use super::live::fresh_since;
use super::model::Round;
use super::store::{self, Room};
use crate::http::AuthUser;
use crate::meditation::error::{MeditationError, invalid};
use crate::meditation::model::{MAX_SESSION_SEC, Session, SessionType};
use crate::meditation::record::{self, EndedBy};
use crate::meditation::store as sessions;
use crate::state::AppState;
use plaza_platform::jobs::{JobKind, Priority};

/// Between the host's `start` and `starts_at`: time for every client, on
/// every node, to hear of it and count down together.
pub const LEAD: Duration = Duration::from_secs(3);

/// Why a round ended, as `session_ended` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Host,
    Timer,
    Closed,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Timer => "timer",
            Self::Closed => "room_closed",
        }
    }
}

fn session_in(room: &Room, round: &Round, started_at: Timestamp) -> Session {
    let planned = i64::try_from(round.ends_at.duration_since(started_at).as_secs()).unwrap_or(0);
    Session {
        id: MeditationId::new(),
        kind: SessionType::parse(&room.kind).unwrap_or(SessionType::Mindfulness),
        planned_duration_sec: Some(planned.max(1)),
        room_id: Some(room.id),
        round_id: Some(round.round_id),
        started_at,
        ended_at: None,
        duration_sec: None,
        mood_before: None,
        mood_after: None,
        notes: None,
    }
}

/// The session `me` starts by `POST /api/meditation/start` with a room:
/// the rest of its group session; 404 for a room I may not see, 409 when
/// none is under way.
pub async fn joining(
    tx: &mut sqlx::AnyConnection,
    room: &str,
    me: &AuthUser,
    now: Timestamp,
) -> Result<Session, MeditationError> {
    let no_room = || invalid("room_id", "no such room");
    let room: RoomId = room.parse().map_err(|_| no_room())?;
    let room = super::access::visible(tx, room, me)
        .await
        .map_err(|e| match e {
            MeditationError::RoomNotFound => no_room(),
            e => e,
        })?;
    match Round::of(&room) {
        Some(round) if now < round.ends_at => {
            Ok(session_in(&room, &round, now.max(round.starts_at)))
        }
        _ => Err(MeditationError::NoRound(
            "no group session is under way in that room",
        )),
    }
}

/// The host starts a group session of `duration_sec` for everyone in the
/// room. Those with a session of their own already running are left out
/// (named in `skipped`).
pub async fn start(
    state: &AppState,
    room: &Room,
    me: UserId,
    duration_sec: i64,
) -> Result<(), MeditationError> {
    if room.host_id != me {
        return Err(MeditationError::NotHost(
            "only the room's host starts a group session",
        ));
    }
    if !(1..=MAX_SESSION_SEC).contains(&duration_sec) {
        return Err(invalid(
            "duration_sec",
            format!("1 to {MAX_SESSION_SEC} seconds"),
        ));
    }
    let now = state.clock.now();
    let starts_at = now.saturating_add(LEAD);
    let round = Round {
        round_id: RoundId::new(),
        starts_at,
        ends_at: starts_at.saturating_add(Duration::from_secs(duration_sec.unsigned_abs())),
        duration_sec,
    };
    let mut tx = state.work().await?;
    let times = (round.starts_at, round.ends_at);
    if !store::begin_round(&mut tx, room.id, round.round_id, times.0, times.1).await? {
        drop(tx);
        let mut conn = state.db.writer().acquire().await?;
        let current = store::find(&mut conn, room.id)
            .await?
            .as_ref()
            .and_then(Round::of);
        return Err(MeditationError::RoundRunning(current));
    }
    let mut skipped = Vec::new();
    for user in store::people(&mut tx, room.id, fresh_since()).await? {
        let session = session_in(room, &round, round.starts_at);
        if sessions::insert_if_idle(&mut tx, user, &session).await? {
            record::started(&mut tx, user, &session, now).await?;
        } else {
            skipped.push(user);
        }
    }
    let timer = EndRound {
        room_id: room.id,
        round_id: round.round_id,
        ends_at: round.ends_at,
    };
    tx.enqueue_at(&timer, round.ends_at).await?;
    tx.commit().await?;
    let data = json!({
        "room_id": room.id, "round_id": round.round_id, "type": room.kind,
        "duration_sec": duration_sec, "starts_at": round.starts_at, "ends_at": round.ends_at,
        "server_time": now, "skipped": skipped,
    });
    fanout::publish(state, room.id, "session_started", data, false).await;
    Ok(())
}

/// Someone who entered a room while its group session runs joins what is
/// left of it; their session, or None if it is over or they have one of
/// their own running.
pub async fn join(
    tx: &mut plaza_platform::Work<'_>,
    room: &Room,
    user: UserId,
    now: Timestamp,
) -> Result<Option<Session>, sqlx::Error> {
    let Some(round) = Round::of(room) else {
        return Ok(None);
    };
    if now >= round.ends_at {
        return Ok(None);
    }
    let session = session_in(room, &round, now.max(round.starts_at));
    if !sessions::insert_if_idle(tx, user, &session).await? {
        return Ok(None);
    }
    record::started(tx, user, &session, now).await?;
    Ok(Some(session))
}

/// Ends `user`'s part of `round` now (they left the room); false if they
/// had none open.
pub async fn leave(state: &AppState, round: RoundId, user: UserId) -> Result<bool, sqlx::Error> {
    let now = state.clock.now();
    let mut tx = state.work().await?;
    let Some(mut session) = sessions::active(&mut tx, user).await? else {
        return Ok(false);
    };
    if session.round_id != Some(round) {
        return Ok(false);
    }
    session.end_at(now);
    if !sessions::finish(&mut tx, user, &session).await? {
        return Ok(false);
    }
    record::ended(&mut tx, user, &session, EndedBy::Owner, now).await?;
    tx.commit().await?;
    crate::meditation::stats::invalidate(state, user).await;
    Ok(true)
}

/// Ends group session `round` of `room` at `at` for everyone still in it,
/// and tells the room; false if it had ended already.
pub async fn finish(
    state: &AppState,
    room: RoomId,
    round: RoundId,
    at: Timestamp,
    reason: Reason,
) -> Result<bool, sqlx::Error> {
    let now = state.clock.now();
    let mut tx = state.work().await?;
    if !store::end_round(&mut tx, room, round).await? {
        return Ok(false);
    }
    let mut ended = Vec::new();
    for (user, mut session) in sessions::open_in_round(&mut tx, round).await? {
        session.end_at(at);
        if sessions::finish(&mut tx, user, &session).await? {
            record::ended(&mut tx, user, &session, EndedBy::Room, now).await?;
            ended.push(user);
        }
    }
    tx.commit().await?;
    for user in &ended {
        crate::meditation::stats::invalidate(state, *user).await;
    }
    let data = json!({
        "room_id": room, "round_id": round, "ended_at": at, "reason": reason.as_str(),
        "server_time": now,
    });
    fanout::publish(state, room, "session_ended", data, false).await;
    Ok(true)
}

/// Ends a room's group session at its end time.
#[derive(Debug, Serialize, Deserialize)]
pub struct EndRound {
    pub room_id: RoomId,
    pub round_id: RoundId,
    pub ends_at: Timestamp,
}

#[async_trait::async_trait]
impl JobKind for EndRound {
    type Context = AppState;
    const KIND: &'static str = "meditation.room_end";
    const QUEUE: &'static str = "maintenance";
    const PRIORITY: Priority = Priority::High;
    const BACKOFF: Duration = Duration::from_secs(1);
    const MAX_BACKOFF: Duration = Duration::from_secs(30);

    async fn run(&self, state: &AppState) -> anyhow::Result<()> {
        if finish(
            state,
            self.room_id,
            self.round_id,
            self.ends_at,
            Reason::Timer,
        )
        .await?
        {
            tracing::info!(
                room_id = %self.room_id,
                round_id = %self.round_id,
                "a group session ended on time"
            );
        }
        Ok(())
    }
}
