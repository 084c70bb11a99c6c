//! Projects and responses as the API shows them, their statuses and the
//! moves between them. What is refused is `error.rs`; the checks on what
//! people type, `rules.rs`.

use plaza_core::{Currency, ProjectId, ResponseId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a project is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProjectStatus)]
pub enum Status {
    /// Seen only by its owner.
    Draft,
    /// Listed; takes responses.
    Open,
    /// A response was accepted.
    InProgress,
    Completed,
    Cancelled,
    /// Deleted after it had responses: kept for the people involved.
    Archived,
}

impl Status {
    pub const ALL: [Self; 6] = [
        Self::Draft,
        Self::Open,
        Self::InProgress,
        Self::Completed,
        Self::Cancelled,
        Self::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The moves from here: `draft → open → in_progress → completed`,
    /// `open | in_progress → cancelled`. (`open → in_progress` happens by
    /// accepting a response.)
    pub fn moves(self) -> &'static [Self] {
        match self {
            Self::Draft => &[Self::Open],
            Self::Open => &[Self::InProgress, Self::Cancelled],
            Self::InProgress => &[Self::Completed, Self::Cancelled],
            Self::Completed | Self::Cancelled | Self::Archived => &[],
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a response is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    Pending,
    Accepted,
    Rejected,
    Withdrawn,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Accepted,
            Self::Rejected,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A project.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Project {
    #[schema(value_type = String, format = Uuid)]
    pub id: ProjectId,
    #[schema(value_type = String)]
    pub owner_id: UserId,
    pub title: String,
    pub description: String,
    pub skills: Vec<String>,
    /// Minor units (cents) of `currency`.
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    /// ISO 4217.
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<jiff::civil::Date>,
    pub status: Status,
    pub responses_count: i64,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub accepted_response_id: Option<ResponseId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A freelancer's response (proposal) to a project.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Response {
    #[schema(value_type = String, format = Uuid)]
    pub id: ResponseId,
    #[schema(value_type = String, format = Uuid)]
    pub project_id: ProjectId,
    #[schema(value_type = String)]
    pub freelancer_id: UserId,
    pub cover_letter: String,
    /// Minor units of `currency`.
    pub bid_amount: i64,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    pub eta_days: i64,
    pub status: ResponseStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}
