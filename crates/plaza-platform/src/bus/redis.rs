use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fred::clients::SubscriberClient;
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use tokio::sync::Mutex;

use super::{Bus, BusError, Subscription, Topics};
use crate::redis::Redis;

/// How often topics nobody listens to are unsubscribed from Redis.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// The bus across nodes, over Redis pub/sub. One subscriber connection per
/// node carries every topic this node listens to, and resubscribes after a
/// reconnect; messages sent while it was down are not replayed.
#[derive(Debug)]
pub struct RedisBus {
    redis: Redis,
    subscriber: SubscriberClient,
    topics: Arc<Topics>,
    /// Orders Redis SUBSCRIBE and UNSUBSCRIBE, so a sweep never drops a
    /// topic that was just subscribed again.
    membership: Arc<Mutex<()>>,
}

impl RedisBus {
    pub async fn connect(redis: &Redis) -> Result<Self, BusError> {
        let subscriber = redis.builder().build_subscriber_client().map_err(backend)?;
        subscriber.init().await.map_err(backend)?;
        subscriber.manage_subscriptions();
        let bus = Self {
            redis: redis.clone(),
            subscriber,
            topics: Arc::new(Topics::default()),
            membership: Arc::new(Mutex::new(())),
        };
        bus.spawn_dispatch();
        bus.spawn_sweeper();
        Ok(bus)
    }

    fn spawn_dispatch(&self) {
        let mut messages = self.subscriber.message_rx();
        let prefix = self.redis.prefix().to_owned();
        let topics = Arc::clone(&self.topics);
        tokio::spawn(async move {
            loop {
                let message = match messages.recv().await {
                    Ok(m) => m,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "bus subscriber fell behind Redis");
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let channel = message.channel.to_string();
                if let Some(topic) = channel.strip_prefix(&prefix) {
                    let payload = message
                        .value
                        .as_bytes()
                        .map(Bytes::copy_from_slice)
                        .unwrap_or_default();
                    topics.deliver(topic, payload);
                }
            }
        });
    }

    fn spawn_sweeper(&self) {
        let topics = Arc::clone(&self.topics);
        let membership = Arc::clone(&self.membership);
        let subscriber = self.subscriber.clone();
        let redis = self.redis.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let _held = membership.lock().await;
                for topic in topics.sweep() {
                    if let Err(e) = subscriber.unsubscribe(redis.key(&topic)).await {
                        tracing::warn!(topic, error = %e, "cannot unsubscribe an idle bus topic");
                    }
                }
            }
        });
    }
}

fn backend(e: fred::error::Error) -> BusError {
    BusError::Backend(e.to_string())
}

#[async_trait::async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), BusError> {
        let channel = self.redis.key(topic);
        self.redis
            .call(|c| async move { c.publish::<(), _, _>(channel, payload.to_vec()).await })
            .await
            .map_err(backend)
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, BusError> {
        let _held = self.membership.lock().await;
        if !self.subscriber.is_connected() {
            // Fail now; callers retry, and fred resubscribes what it holds.
            return Err(BusError::Backend(
                "Redis subscriber is not connected".into(),
            ));
        }
        let (rx, new) = self.topics.subscribe(topic);
        if new && let Err(e) = self.subscriber.subscribe(self.redis.key(topic)).await {
            self.topics.forget(topic);
            return Err(backend(e));
        }
        Ok(Subscription { rx })
    }
}
