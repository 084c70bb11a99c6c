//! Cron schedules: each enqueues a job at the times its expression names.
//! Every node runs the scheduler; a fired slot's job carries the unique key
//! `cron:<name>:<slot>`, so however many nodes notice the slot, it is one
//! job. Slots that pass while no node runs are not made up afterwards.

use std::time::Duration;

use jiff::tz::TimeZone;
use plaza_core::Timestamp;

use super::JobKind;
use super::store::{self, NewJob};
use crate::platform::{Context, Platform};

/// How often the scheduler looks at the clock.
const TICK: Duration = Duration::from_secs(1);
/// Slots one look may fire per schedule (after a long pause, the latest).
const MAX_CATCH_UP: usize = 10;

struct Entry {
    name: String,
    schedule: jiff_cron::Schedule,
    job: NewJob,
}

/// The schedules a node runs.
#[derive(Default)]
pub struct Cron {
    entries: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum CronError {
    #[error("schedule {name}: `{expression}` is not a cron expression: {reason}")]
    Expression {
        name: String,
        expression: String,
        reason: String,
    },
    #[error("schedule {0}: cannot encode its job: {1}")]
    Payload(String, String),
}

impl Cron {
    pub fn new() -> Self {
        Self::default()
    }

    /// Enqueues `job` at the times of `expression`: five fields (minute
    /// hour day-of-month month day-of-week, in UTC), or six with seconds
    /// first.
    pub fn add<J: JobKind>(
        &mut self,
        name: &str,
        expression: &str,
        job: &J,
    ) -> Result<&mut Self, CronError> {
        let full = if expression.split_whitespace().count() == 5 {
            format!("0 {expression}")
        } else {
            expression.to_owned()
        };
        let schedule: jiff_cron::Schedule =
            full.parse()
                .map_err(|e: jiff_cron::error::Error| CronError::Expression {
                    name: name.to_owned(),
                    expression: expression.to_owned(),
                    reason: e.to_string(),
                })?;
        let payload = serde_json::to_value(job)
            .map_err(|e| CronError::Payload(name.to_owned(), e.to_string()))?;
        self.entries.push(Entry {
            name: name.to_owned(),
            schedule,
            job: NewJob {
                queue: J::QUEUE.to_owned(),
                kind: J::KIND.to_owned(),
                payload,
                priority: job.priority(),
                max_attempts: J::MAX_ATTEMPTS,
                run_at: Timestamp::from_jiff(jiff::Timestamp::UNIX_EPOCH),
                unique_key: None,
                unique_until: None,
            },
        });
        Ok(self)
    }
}

/// The slots of `schedule` in `(after, until]`, oldest first, at most
/// [`MAX_CATCH_UP`] (the latest ones).
fn slots(schedule: &jiff_cron::Schedule, after: Timestamp, until: Timestamp) -> Vec<Timestamp> {
    let start = after.as_jiff().to_zoned(TimeZone::UTC);
    let mut found: Vec<Timestamp> = schedule
        .after(start)
        .map(|z| Timestamp::from_jiff(z.timestamp()))
        .take_while(|t| *t <= until)
        .take(10_000)
        .collect();
    if found.len() > MAX_CATCH_UP {
        found.drain(..found.len() - MAX_CATCH_UP);
    }
    found
}

/// Runs `cron` on this node until shutdown begins.
pub fn spawn<C: Context>(ctx: &C, cron: Cron) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let state: &Platform = ctx.as_ref();
        let mut since = state.clock.now();
        loop {
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                () = state.shutdown.stopping() => return,
            }
            let now = state.clock.now();
            let mut fired = false;
            for entry in &cron.entries {
                for slot in slots(&entry.schedule, since, now) {
                    fired |= fire(state, entry, slot, now).await;
                }
            }
            since = now;
            if fired {
                state.workers.added(&state.bus).await;
            }
        }
    });
}

async fn fire(state: &Platform, entry: &Entry, slot: Timestamp, now: Timestamp) -> bool {
    let mut job = entry.job.clone();
    job.run_at = slot;
    job.unique_key = Some(format!("cron:{}:{slot}", entry.name));
    job.unique_until = Some(slot.saturating_add(Duration::from_secs(24 * 3600)));
    let result = match state.db.writer().acquire().await {
        Ok(mut conn) => store::enqueue(&mut conn, &job, now).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((_, created)) => created,
        Err(e) => {
            tracing::error!(schedule = entry.name, %slot, error = %e, "cannot enqueue a scheduled job");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::from_jiff(s.parse().unwrap())
    }

    #[test]
    fn slots_are_the_matching_times_after_the_start_up_to_the_end() {
        let nightly: jiff_cron::Schedule = "0 0 3 * * *".parse().unwrap();
        let got = slots(
            &nightly,
            at("2026-11-23T03:00:00Z"),
            at("2026-11-26T02:59:59Z"),
        );
        assert_eq!(
            got,
            [at("2026-11-24T03:00:00Z"), at("2026-11-25T03:00:00Z")]
        );
        let minutely: jiff_cron::Schedule = "0 * * * * *".parse().unwrap();
        let got = slots(
            &minutely,
            at("2026-11-23T00:00:00Z"),
            at("2026-11-24T00:00:00Z"),
        );
        assert_eq!(got.len(), MAX_CATCH_UP);
        assert_eq!(got.last(), Some(&at("2026-11-24T00:00:00Z")));
    }
}
