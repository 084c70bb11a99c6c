//! The bus port: cross-node publish/subscribe for signals that need not be
//! stored (cache invalidation, typing, fan-out of stored events). In-process
//! by default; Redis pub/sub when scaled out. Delivery is at-most-once:
//! anything that must not be lost goes through the outbox and is re-read
//! from the database by sequence number.

mod memory;
mod redis;

use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::broadcast;

pub use memory::MemoryBus;
pub use redis::RedisBus;

/// A message on a topic.
#[derive(Clone, Debug)]
pub struct Message {
    pub topic: Arc<str>,
    pub payload: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus backend unavailable: {0}")]
    Backend(String),
}

/// Why a subscription gave no message.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The subscriber fell behind and this many messages were dropped.
    #[error("subscriber lagged and missed {0} messages")]
    Lagged(u64),
    #[error("bus closed")]
    Closed,
}

/// Messages of one topic, for as long as it is held.
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Message>,
}

impl Subscription {
    pub async fn recv(&mut self) -> Result<Message, RecvError> {
        match self.rx.recv().await {
            Ok(m) => Ok(m),
            Err(broadcast::error::RecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(broadcast::error::RecvError::Closed) => Err(RecvError::Closed),
        }
    }

    /// The next message for a node-wide listener of `topic`, skipping (and
    /// logging) what it fell behind on; None once the bus is gone.
    pub async fn next_of(&mut self, topic: &str) -> Option<Message> {
        loop {
            match self.recv().await {
                Ok(m) => return Some(m),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(topic, missed = n, "a bus listener fell behind");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// Subscribes to `topic` for a node's lifetime, retrying every second
/// until the bus answers.
pub async fn subscribe_retrying(bus: &SharedBus, topic: &str) -> Subscription {
    loop {
        match bus.subscribe(topic).await {
            Ok(sub) => return sub,
            Err(e) => {
                tracing::error!(topic, error = %e, "cannot subscribe; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// Cross-node publish/subscribe.
#[async_trait::async_trait]
pub trait Bus: Send + Sync + std::fmt::Debug {
    /// Sends to every current subscriber of `topic`, on every node.
    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), BusError>;
    /// Receives what is published to `topic` from now on.
    async fn subscribe(&self, topic: &str) -> Result<Subscription, BusError>;
}

pub type SharedBus = Arc<dyn Bus>;

/// Messages a slow subscriber may fall behind by before it lags.
const CAPACITY: usize = 1024;

/// Local fan-out shared by both engines: one broadcast channel per topic,
/// dropped when its last subscriber goes.
#[derive(Debug, Default)]
struct Topics {
    senders: std::sync::Mutex<std::collections::HashMap<String, broadcast::Sender<Message>>>,
}

impl Topics {
    /// A receiver for `topic`, and whether the topic is new on this node.
    fn subscribe(&self, topic: &str) -> (broadcast::Receiver<Message>, bool) {
        let mut senders = self
            .senders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = senders.get(topic) {
            return (tx.subscribe(), false);
        }
        let (tx, rx) = broadcast::channel(CAPACITY);
        senders.insert(topic.to_owned(), tx);
        (rx, true)
    }

    /// Delivers to this node's subscribers of `topic`, if any.
    fn deliver(&self, topic: &str, payload: Bytes) {
        let mut senders = self
            .senders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(tx) = senders.get(topic) else {
            return;
        };
        if tx.receiver_count() == 0 {
            senders.remove(topic);
            return;
        }
        let _ = tx.send(Message {
            topic: Arc::from(topic),
            payload,
        });
    }

    /// Forgets topics nobody here listens to any more, returning them.
    fn sweep(&self) -> Vec<String> {
        let mut senders = self
            .senders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let idle: Vec<String> = senders
            .iter()
            .filter(|(_, tx)| tx.receiver_count() == 0)
            .map(|(topic, _)| topic.clone())
            .collect();
        for topic in &idle {
            senders.remove(topic);
        }
        idle
    }

    fn forget(&self, topic: &str) {
        let mut senders = self
            .senders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        senders.remove(topic);
    }
}

#[cfg(test)]
mod tests;
