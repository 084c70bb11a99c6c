use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

use super::{Bus, BusError, Subscription, Topics};

/// Subscriptions between sweeps of topics nobody listens to.
const SWEEP_EVERY: usize = 256;

/// The bus inside one process.
#[derive(Debug, Default)]
pub struct MemoryBus {
    pub(super) topics: Topics,
    subscribes: AtomicUsize,
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), BusError> {
        self.topics.deliver(topic, payload);
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, BusError> {
        if self.subscribes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.topics.sweep();
        }
        let (rx, _) = self.topics.subscribe(topic);
        Ok(Subscription { rx })
    }
}
