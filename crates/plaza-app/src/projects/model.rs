//! Projects and responses as the API shows them, their statuses and the
//! moves between them, and the checks on what people type.

use plaza_core::{Currency, ProjectId, ResponseId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ProjectsError, invalid};

/// Where a project is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
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

    /// A conflict unless `self → to` is a move, naming the ones there are.
    pub fn check_move(self, to: Self) -> Result<(), ProjectsError> {
        if self.moves().contains(&to) {
            return Ok(());
        }
        Err(ProjectsError::BadMove {
            from: self,
            to,
            allowed: self.moves().iter().map(|s| s.as_str()).collect(),
        })
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

/// Trimmed text of `min..=max` characters.
pub fn text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, ProjectsError> {
    let value = value.trim();
    let n = value.chars().count();
    if n < min || n > max {
        return Err(invalid(field, format!("{min} to {max} characters")));
    }
    Ok(value.to_owned())
}

/// At most this many skills, each a short word or two.
pub const MAX_SKILLS: usize = 20;

/// Skills lower-cased, trimmed, without repeats, in the order given:
/// letters, digits, spaces and `+ # . -` (`c++`, `c#`, `node.js`).
pub fn skills(field: &'static str, given: &[String]) -> Result<Vec<String>, ProjectsError> {
    if given.len() > MAX_SKILLS {
        return Err(invalid(field, format!("at most {MAX_SKILLS} skills")));
    }
    let mut out: Vec<String> = Vec::with_capacity(given.len());
    for skill in given {
        let skill = skill.trim().to_lowercase();
        let fine = (1..=40).contains(&skill.chars().count())
            && skill
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '+' | '#' | '.' | '-'));
        if !fine {
            return Err(invalid(
                field,
                "each 1 to 40 letters, digits, spaces or + # . -",
            ));
        }
        if !out.contains(&skill) {
            out.push(skill);
        }
    }
    Ok(out)
}

/// A budget: each bound positive, `min ≤ max`.
pub fn budget(min: Option<i64>, max: Option<i64>) -> Result<(), ProjectsError> {
    for (field, v) in [("budget_min", min), ("budget_max", max)] {
        if v.is_some_and(|v| v <= 0) {
            return Err(invalid(field, "a positive amount in minor units"));
        }
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(invalid("budget_max", "must not be below budget_min"));
    }
    Ok(())
}
