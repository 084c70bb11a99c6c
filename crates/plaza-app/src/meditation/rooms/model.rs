//! A room as clients see it, its visibility, and the group session it has
//! under way.

use plaza_core::{RoomId, RoundId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{Participant, Room};
use crate::meditation::model::SessionType;

/// Who may find and join a room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Listed to everyone; anyone may join.
    #[default]
    Public,
    /// Seen and joined only by the host and the people invited.
    InviteOnly,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::InviteOnly => "invite_only",
        }
    }

    pub fn parse(stored: &str) -> Self {
        if stored == Self::InviteOnly.as_str() {
            Self::InviteOnly
        } else {
            Self::Public
        }
    }
}

/// A room's group session under way.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Round {
    #[schema(value_type = String, format = Uuid)]
    pub round_id: RoundId,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub duration_sec: i64,
}

impl Round {
    pub fn of(room: &Room) -> Option<Self> {
        let (Some(round_id), Some(starts_at), Some(ends_at)) =
            (room.round_id, room.starts_at, room.ends_at)
        else {
            return None;
        };
        let duration_sec = i64::try_from(ends_at.duration_since(starts_at).as_secs()).unwrap_or(0);
        Some(Self {
            round_id,
            starts_at,
            ends_at,
            duration_sec,
        })
    }
}

/// A group meditation room.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomView {
    #[schema(value_type = String, format = Uuid)]
    pub id: RoomId,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = String)]
    pub host_id: UserId,
    pub visibility: Visibility,
    /// The kind of session its group sessions record.
    #[serde(rename = "type")]
    pub kind: SessionType,
    pub max_participants: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// People in the room now.
    pub participants: i64,
    /// The group session under way, if any.
    pub session: Option<Round>,
}

impl RoomView {
    pub fn new(room: &Room, participants: i64) -> Self {
        Self {
            id: room.id,
            name: room.name.clone(),
            description: room.description.clone(),
            host_id: room.host_id,
            visibility: Visibility::parse(&room.visibility),
            kind: SessionType::parse(&room.kind).unwrap_or(SessionType::Mindfulness),
            max_participants: room.max_participants,
            created_at: room.created_at,
            participants,
            session: Round::of(room),
        }
    }
}

/// A room with the people in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomDetail {
    pub room: RoomView,
    pub participants: Vec<Participant>,
}
