//! The events a session's start and end record, in the transaction that
//! starts or ends it — one shape whether the person, a group session or
//! the stale-session job did it.

use plaza_core::{Timestamp, UserId};
use serde_json::json;

use super::model::Session;
use plaza_platform::Work;
use plaza_platform::outbox::Event;

/// Who ended a session, when not its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndedBy {
    Owner,
    /// Open past the maximum; closed by `meditation.close_stale`.
    Timeout,
    /// Its room's group session ended (the host, the timer, or the room
    /// closing).
    Room,
}

pub async fn started(
    tx: &mut Work<'_>,
    user: UserId,
    session: &Session,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let event = Event::new(
        "meditation.session.started",
        format!("user:{user}"),
        Some(user),
        json!({
            "session_id": session.id, "type": session.kind,
            "planned_duration_sec": session.planned_duration_sec,
            "room_id": session.room_id, "round_id": session.round_id,
        }),
        now,
    );
    tx.record(&event).await
}

pub async fn ended(
    tx: &mut Work<'_>,
    user: UserId,
    session: &Session,
    by: EndedBy,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let mut data = json!({
        "session_id": session.id, "type": session.kind, "started_at": session.started_at,
        "duration_sec": session.duration_sec, "mood_before": session.mood_before,
        "mood_after": session.mood_after, "room_id": session.room_id,
        "round_id": session.round_id,
    });
    let closed_by = match by {
        EndedBy::Owner => None,
        EndedBy::Timeout => Some("timeout"),
        EndedBy::Room => Some("room"),
    };
    if let (Some(fields), Some(by)) = (data.as_object_mut(), closed_by) {
        fields.insert("closed_by".into(), by.into());
    }
    let actor = (by == EndedBy::Owner).then_some(user);
    let event = Event::new(
        "meditation.session.ended",
        format!("user:{user}"),
        actor,
        data,
        now,
    );
    tx.record(&event).await
}
