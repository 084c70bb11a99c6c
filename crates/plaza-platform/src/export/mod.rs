//! The export port: hands domain events to a broker for other services
//! (seed 002's "events for integration with other services"). RabbitMQ (a
//! topic exchange, routing key = event type, persistent messages, publisher
//! confirms) or NATS JetStream (subject `<prefix>.<type>`, the stream created
//! if missing). A batch is exported when the broker has confirmed every
//! message in it; anything less is an error and the caller sends it again,
//! so delivery is at least once (JetStream also drops repeats by message id).
//!
//! Connections are made lazily and remade after a failure, so a broker
//! that is down at start-up or restarts only delays export.

mod nats;
mod rabbitmq;

use std::sync::Arc;

pub use nats::NatsExporter;
pub use rabbitmq::RabbitExporter;

use crate::config::ExportConfig;

/// One event on its way out.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing<'a> {
    /// Unique and stable across retries (the broker's message id).
    pub id: &'a str,
    /// Dotted event type: the routing key / subject suffix.
    pub kind: &'a str,
    /// The event as JSON.
    pub payload: &'a [u8],
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot reach the broker: {0}")]
    Connect(String),
    #[error("the broker did not confirm the batch: {0}")]
    Publish(String),
}

/// A broker that takes batches of events.
#[async_trait::async_trait]
pub trait Exporter: Send + Sync + std::fmt::Debug {
    /// `rabbitmq` or `nats`, for logs and metrics.
    fn broker(&self) -> &'static str;
    /// Returns once the broker has stored every message, in order.
    async fn export(&self, batch: &[Outgoing<'_>]) -> Result<(), ExportError>;
}

pub type SharedExporter = Arc<dyn Exporter>;

/// The exporter the configuration asks for; `None` when export is off.
/// Connects on first use, not here.
pub fn from_config(config: &ExportConfig, enabled: bool) -> Option<SharedExporter> {
    if !enabled {
        return None;
    }
    let url = config.url.as_ref()?.expose();
    match Broker::of(url)? {
        Broker::Rabbit => Some(Arc::new(RabbitExporter::new(url, &config.exchange))),
        Broker::Nats => Some(Arc::new(NatsExporter::new(
            url,
            &config.stream,
            &config.subject_prefix,
        ))),
    }
}

/// Which broker a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broker {
    Rabbit,
    Nats,
}

impl Broker {
    /// By scheme: `amqp://`, `amqps://`, `nats://`, `tls://`.
    pub fn of(url: &str) -> Option<Self> {
        let scheme = url.split_once("://")?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "amqp" | "amqps" => Some(Self::Rabbit),
            "nats" | "tls" => Some(Self::Nats),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
