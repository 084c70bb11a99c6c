//! Writes completions in batches: whatever arrived while the previous batch
//! was being written goes in the next statement, so a busy queue costs a
//! few statements per batch instead of one per job.

use std::collections::HashMap;
use std::sync::Arc;

use plaza_core::JobId;
use tokio::sync::{mpsc, oneshot};

use super::store::{self, Purge};
use crate::platform::{Context, Platform};

/// Most completions written in one statement.
const COMPLETE_BATCH: usize = 512;

/// A completion waiting to be written.
struct Done {
    id: JobId,
    holder: Arc<str>,
    purge: Purge,
    /// Whether the holder still held the job.
    reply: oneshot::Sender<Result<bool, String>>,
}

#[derive(Clone)]
pub(super) struct Completer {
    tx: mpsc::UnboundedSender<Done>,
}

impl Completer {
    pub(super) fn spawn<C: Context>(ctx: C) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(COMPLETE_BATCH);
            while rx.recv_many(&mut batch, COMPLETE_BATCH).await > 0 {
                write(ctx.as_ref(), std::mem::take(&mut batch)).await;
            }
        });
        Self { tx }
    }

    /// Records a job done; false if its lease was lost meanwhile.
    pub(super) async fn complete(
        &self,
        id: JobId,
        holder: &Arc<str>,
        purge: Purge,
    ) -> Result<bool, String> {
        let (reply, answer) = oneshot::channel();
        let done = Done {
            id,
            holder: holder.clone(),
            purge,
            reply,
        };
        if self.tx.send(done).is_err() {
            return Err("the completion writer stopped".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the completion writer stopped".into()))
    }
}

async fn write(p: &Platform, batch: Vec<Done>) {
    let now = p.clock.now();
    let mut groups: HashMap<(Arc<str>, Purge), Vec<Done>> = HashMap::new();
    for done in batch {
        groups
            .entry((done.holder.clone(), done.purge))
            .or_default()
            .push(done);
    }
    for ((holder, purge), group) in groups {
        let ids: Vec<JobId> = group.iter().map(|d| d.id).collect();
        let written = async {
            let mut tx = store::bookkeeping(&p.db).await?;
            let held = store::complete_many(&mut tx, &ids, &holder, now, purge).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(held)
        }
        .await;
        match written {
            Ok(held) => {
                for done in group {
                    let still = held.contains(&done.id);
                    let _ = done.reply.send(Ok(still));
                }
            }
            Err(e) => {
                for done in group {
                    let _ = done.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
