//! Projects and responses as the API shows them, their statuses and the
//! moves between them, and the checks on what people type.

use plaza_core::{Currency, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ApiError;

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

    /// 409 unless `self → to` is a move, naming the ones there are.
    pub fn check_move(self, to: Self) -> Result<(), ApiError> {
        if self.moves().contains(&to) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.moves().iter().map(|s| s.as_str()).collect();
        let listed = if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.join(", ")
        };
        Err(ApiError::conflict(format!(
            "a project cannot move from {} to {}; from {} it can move to: {listed}",
            self.as_str(),
            to.as_str(),
            self.as_str()
        ))
        .with_details(serde_json::json!({
            "from": self, "to": to, "allowed": allowed,
        })))
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
    pub id: String,
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
    pub accepted_response_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A freelancer's response (proposal) to a project.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Response {
    pub id: String,
    pub project_id: String,
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
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    let n = value.chars().count();
    if n < min || n > max {
        return Err(ApiError::invalid_field(
            field,
            format!("{min} to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// At most this many skills, each a short word or two.
pub const MAX_SKILLS: usize = 20;

/// Skills lower-cased, trimmed, without repeats, in the order given:
/// letters, digits, spaces and `+ # . -` (`c++`, `c#`, `node.js`).
pub fn skills(field: &str, given: &[String]) -> Result<Vec<String>, ApiError> {
    if given.len() > MAX_SKILLS {
        return Err(ApiError::invalid_field(
            field,
            format!("at most {MAX_SKILLS} skills"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(given.len());
    for skill in given {
        let skill = skill.trim().to_lowercase();
        let fine = (1..=40).contains(&skill.chars().count())
            && skill
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '+' | '#' | '.' | '-'));
        if !fine {
            return Err(ApiError::invalid_field(
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
pub fn budget(min: Option<i64>, max: Option<i64>) -> Result<(), ApiError> {
    for (field, v) in [("budget_min", min), ("budget_max", max)] {
        if v.is_some_and(|v| v <= 0) {
            return Err(ApiError::invalid_field(
                field,
                "a positive amount in minor units",
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(ApiError::invalid_field(
            "budget_max",
            "must not be below budget_min",
        ));
    }
    Ok(())
}
