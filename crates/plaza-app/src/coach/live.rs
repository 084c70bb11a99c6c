//! Waiting for an answer, on whichever node it is written: the job tells
//! the bus (`coach.answers`) each piece as the model writes it and when
//! the request finishes; each node's one listener hands that to the
//! requests waiting there. At most once, like the bus: a waiter also looks
//! at the request's row, so a lost note costs a second, not the answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use plaza_core::AiRequestId;
use plaza_platform::bus::{SharedBus, subscribe_retrying};
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, mpsc};

pub const TOPIC: &str = "coach.answers";

/// What the job says about a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Note {
    /// The next piece of the answer.
    Piece { r: AiRequestId, text: String },
    /// The request finished (its row says how).
    Done { r: AiRequestId },
}

impl Note {
    fn request(&self) -> AiRequestId {
        match self {
            Self::Piece { r, .. } | Self::Done { r } => *r,
        }
    }

    pub fn bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

type Waiting = Arc<Mutex<HashMap<AiRequestId, mpsc::UnboundedSender<Note>>>>;

/// The requests this node is waiting on.
#[derive(Default)]
pub struct Waiters {
    waiting: Waiting,
    listening: OnceCell<()>,
}

fn lock(
    waiting: &Waiting,
) -> std::sync::MutexGuard<'_, HashMap<AiRequestId, mpsc::UnboundedSender<Note>>> {
    waiting.lock().unwrap_or_else(|e| e.into_inner())
}

impl Waiters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts waiting for `id` (before its job can run, so nothing is
    /// missed).
    pub async fn wait_for(&self, bus: &SharedBus, id: AiRequestId) -> Waiter {
        self.listen(bus).await;
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.waiting).insert(id, tx);
        Waiter {
            waiting: self.waiting.clone(),
            id,
            rx,
        }
    }

    async fn listen(&self, bus: &SharedBus) {
        self.listening
            .get_or_init(|| async {
                let first = bus.subscribe(TOPIC).await;
                let (bus, waiting) = (bus.clone(), self.waiting.clone());
                tokio::spawn(async move {
                    let mut sub = match first {
                        Ok(sub) => sub,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot subscribe to AI answers yet; retrying");
                            subscribe_retrying(&bus, TOPIC).await
                        }
                    };
                    while let Some(message) = sub.next_of(TOPIC).await {
                        hand_over(&waiting, &message.payload);
                    }
                });
            })
            .await;
    }
}

/// Notes about one request, until dropped.
pub struct Waiter {
    waiting: Waiting,
    id: AiRequestId,
    rx: mpsc::UnboundedReceiver<Note>,
}

impl Waiter {
    /// The next note; None once the listener is gone.
    pub async fn next(&mut self) -> Option<Note> {
        self.rx.recv().await
    }

    /// A note already here, without waiting.
    pub fn try_next(&mut self) -> Option<Note> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        lock(&self.waiting).remove(&self.id);
    }
}

/// Tells the waiters of every node.
pub async fn tell(bus: &SharedBus, note: &Note) {
    if let Err(e) = bus.publish(TOPIC, note.bytes()).await {
        tracing::debug!(error = %e, "cannot tell waiters about an AI request");
    }
}

fn hand_over(waiting: &Waiting, payload: &[u8]) {
    let Ok(note) = serde_json::from_slice::<Note>(payload) else {
        return;
    };
    let tx = lock(waiting).get(&note.request()).cloned();
    if let Some(tx) = tx {
        let _ = tx.send(note);
    }
}
