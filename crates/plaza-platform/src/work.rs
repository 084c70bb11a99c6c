//! A unit of work: the one way a use case writes. It begins a transaction,
//! records events and enqueues jobs in it, collects what must happen once
//! it is durable (bus messages, a cache revocation), and commits; only then
//! are the outbox relay and the job workers woken — on this node at once,
//! on others through the bus — and the collected steps run, in order.
//! Dropped without [`Work::commit`], it rolls back and nothing runs.
//!
//! ```ignore
//! let mut work = state.work().await?;
//! store::insert(&mut work, &thing).await?;       // &mut Work is a connection
//! work.record(&Event::new(…)).await?;
//! work.enqueue(&SendMail { … }).await?;
//! work.publish(topic, frame);
//! work.commit().await?;
//! ```

use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use plaza_core::Timestamp;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Transaction};

use crate::jobs::{self, Job, JobKind};
use crate::outbox::{self, Event};
use crate::platform::Platform;

/// A write in progress; `&mut Work` is the connection stores take.
pub struct Work<'a> {
    conn: Held,
    platform: &'a Platform,
    events: bool,
    jobs: bool,
    after: Vec<After<'a>>,
}

enum Held {
    Transaction(Transaction<'static, Any>),
    /// One statement, its own transaction: no `BEGIN`/`COMMIT` round trips.
    Single(PoolConnection<Any>),
}

enum After<'a> {
    Publish { topic: String, payload: Bytes },
    Run(BoxFuture<'a, ()>),
}

impl<'a> Work<'a> {
    pub(crate) async fn begin(platform: &'a Platform) -> Result<Self, sqlx::Error> {
        let tx = platform.db.begin().await?;
        Ok(Self::new(platform, Held::Transaction(tx)))
    }

    pub(crate) async fn single(platform: &'a Platform) -> Result<Self, sqlx::Error> {
        let conn = platform.db.writer().acquire().await?;
        Ok(Self::new(platform, Held::Single(conn)))
    }

    fn new(platform: &'a Platform, conn: Held) -> Self {
        Self {
            conn,
            platform,
            events: false,
            jobs: false,
            after: Vec::new(),
        }
    }

    /// The platform's clock, now.
    pub fn now(&self) -> Timestamp {
        self.platform.clock.now()
    }

    /// Writes `event` to the outbox in this unit; the relay publishes it
    /// once the unit commits.
    pub async fn record(&mut self, event: &Event) -> Result<(), sqlx::Error> {
        outbox::record(&mut self.conn, event).await?;
        self.events = true;
        Ok(())
    }

    /// A statement of this unit wrote an outbox row itself (a trigger, or
    /// SQL that inserts into `outbox` beside its own change).
    pub fn wrote_event(&mut self) {
        self.events = true;
    }

    /// A statement of this unit made jobs due without enqueuing them (a
    /// retry of a dead one).
    pub fn made_jobs_due(&mut self) {
        self.jobs = true;
    }

    /// Enqueues `job` to run now, in this unit; `true` when added (not
    /// already waiting under its unique key).
    pub async fn enqueue<J: JobKind>(&mut self, job: &J) -> Result<(Job, bool), sqlx::Error> {
        let now = self.now();
        self.enqueue_at(job, now).await
    }

    /// Enqueues `job` to run at `run_at`, in this unit.
    pub async fn enqueue_at<J: JobKind>(
        &mut self,
        job: &J,
        run_at: Timestamp,
    ) -> Result<(Job, bool), sqlx::Error> {
        let now = self.now();
        let done = jobs::enqueue_at(&mut self.conn, job, run_at, now).await?;
        self.jobs = true;
        Ok(done)
    }

    /// Publishes `payload` on the bus topic once the unit commits (at most
    /// once: what must not be lost is an event, not a bus message).
    pub fn publish(&mut self, topic: impl Into<String>, payload: Bytes) {
        self.after.push(After::Publish {
            topic: topic.into(),
            payload,
        });
    }

    /// Runs `step` once the unit commits, after the wake-ups and any
    /// publishes added before it.
    pub fn after_commit(&mut self, step: impl Future<Output = ()> + Send + 'a) {
        self.after.push(After::Run(Box::pin(step)));
    }

    /// Makes the unit durable, then wakes the relay and the workers and
    /// runs the after-commit steps.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Self {
            conn,
            platform,
            events,
            jobs,
            after,
        } = self;
        if let Held::Transaction(tx) = conn {
            tx.commit().await?;
        }
        if events {
            platform.relay.wake();
        }
        if jobs {
            platform.workers.added(&platform.bus).await;
        }
        for step in after {
            match step {
                After::Publish { topic, payload } => {
                    if let Err(e) = platform.bus.publish(&topic, payload).await {
                        tracing::warn!(topic, error = %e, "cannot publish after a commit");
                    }
                }
                After::Run(step) => step.await,
            }
        }
        Ok(())
    }
}

impl Deref for Held {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Transaction(tx) => tx,
            Self::Single(conn) => conn,
        }
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Transaction(tx) => tx,
            Self::Single(conn) => conn,
        }
    }
}

impl Deref for Work<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Work<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}
