//! What meditation is made of: the kinds of session and one session.

use plaza_core::{MeditationId, RoomId, RoundId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A session longer than this is counted as this long: a session left open
/// (an app closed mid-session) never counts as days of meditation.
pub const MAX_SESSION_SEC: i64 = 4 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    Mindfulness,
    Breathing,
    BodyScan,
    Sleep,
    Focus,
    LovingKindness,
    Custom,
}

impl SessionType {
    const ALL: [Self; 7] = [
        Self::Mindfulness,
        Self::Breathing,
        Self::BodyScan,
        Self::Sleep,
        Self::Focus,
        Self::LovingKindness,
        Self::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mindfulness => "mindfulness",
            Self::Breathing => "breathing",
            Self::BodyScan => "body_scan",
            Self::Sleep => "sleep",
            Self::Focus => "focus",
            Self::LovingKindness => "loving_kindness",
            Self::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One meditation session.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Session {
    #[schema(value_type = String, format = Uuid)]
    pub id: MeditationId,
    #[serde(rename = "type")]
    pub kind: SessionType,
    pub planned_duration_sec: Option<i64>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub room_id: Option<RoomId>,
    /// The room's group session this one was part of.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub round_id: Option<RoundId>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    /// Measured by the server, at most 4 hours.
    pub duration_sec: Option<i64>,
    pub mood_before: Option<i64>,
    pub mood_after: Option<i64>,
    pub notes: Option<String>,
}

impl Session {
    /// Ends the session at `at` (not before it began), counting at most
    /// [`MAX_SESSION_SEC`].
    pub fn end_at(&mut self, at: Timestamp) {
        let at = at.max(self.started_at);
        let measured =
            i64::try_from(at.duration_since(self.started_at).as_secs()).unwrap_or(i64::MAX);
        self.ended_at = Some(at);
        self.duration_sec = Some(measured.min(MAX_SESSION_SEC));
    }
}
