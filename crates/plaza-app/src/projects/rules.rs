//! The marketplace's rules on input: which status moves are allowed, and
//! the checks on what people type.

use super::error::{ProjectsError, invalid};
use super::model::Status;

impl Status {
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

/// A one-line name (a title): [`text`], and nothing hidden in it.
pub fn name(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, ProjectsError> {
    let value = text(field, value, min, max)?;
    if plaza_core::text::has_hidden(&value) {
        return Err(invalid(
            field,
            "must not contain control or invisible characters",
        ));
    }
    Ok(value)
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
