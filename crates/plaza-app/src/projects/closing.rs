//! What other slices do when a deal ends. A project that was in progress
//! and moves to `completed`, `cancelled` or `archived` calls the hook in
//! the unit of work that moves it, so what the hook writes (an escrow
//! released or refunded, its ledger entry) commits with the move or not
//! at all. The marketplace does not know what the hook does; the
//! composition (`state.rs`) gives it payments' escrow.

use plaza_platform::work::Work;

use super::error::ProjectsError;
use super::model::{Project, Status};

#[async_trait::async_trait]
pub trait Closing: Send + Sync {
    /// `project` (already at `to`) leaves `in_progress`. An error refuses
    /// the move.
    async fn closed(
        &self,
        work: &mut Work<'_>,
        project: &Project,
        to: Status,
    ) -> Result<(), ProjectsError>;
}

/// Nothing happens when a deal ends.
pub struct Nothing;

#[async_trait::async_trait]
impl Closing for Nothing {
    async fn closed(&self, _: &mut Work<'_>, _: &Project, _: Status) -> Result<(), ProjectsError> {
        Ok(())
    }
}
