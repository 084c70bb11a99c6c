//! Connection arguments: `first`/`last` between 1 and 100, cursors that
//! are offsets or seqs as decimal text; anything else is a 422 naming the
//! argument.

use crate::http::ApiError;

/// The most a page may hold.
pub const MAX: i64 = 100;

/// `first`, or `default` when absent.
pub fn first(given: Option<i32>, default: i64) -> Result<i64, ApiError> {
    limit(given, "first", default)
}

/// A page size named `name`, or `default` when absent.
pub fn limit(given: Option<i32>, name: &str, default: i64) -> Result<i64, ApiError> {
    match given {
        None => Ok(default),
        Some(n) if (1..=MAX as i32).contains(&n) => Ok(i64::from(n)),
        Some(_) => Err(ApiError::invalid_field(
            name,
            format!("must be between 1 and {MAX}"),
        )),
    }
}

/// The offset an `after` cursor names (0 without one).
pub fn offset(after: Option<&str>) -> Result<usize, ApiError> {
    match after {
        None => Ok(0),
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::invalid_field("after", "not a cursor of this list")),
    }
}

/// The seq a cursor named `name` carries.
pub fn seq(cursor: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    match cursor {
        None => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(seq) if seq >= 0 => Ok(Some(seq)),
            _ => Err(ApiError::invalid_field(name, "not a cursor of this list")),
        },
    }
}

/// What a page of `first` (or `default`) items costs toward the query's
/// complexity limit: each item's fields, once per item.
pub fn cost(first: Option<i32>, default: i64, child: usize) -> usize {
    let n = first.map_or(default, |n| i64::from(n).clamp(1, MAX));
    usize::try_from(n).unwrap_or(1).saturating_mul(child)
}
