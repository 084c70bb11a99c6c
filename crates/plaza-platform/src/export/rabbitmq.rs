//! RabbitMQ: a durable topic exchange, one persistent message per event
//! with the event type as routing key, on a channel in confirm mode.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;

use super::{ExportError, Exporter, Outgoing};

/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

#[derive(Debug)]
pub struct RabbitExporter {
    url: String,
    exchange: String,
    /// The open connection and its confirm-mode channel, if any.
    link: Mutex<Option<(Connection, Channel)>>,
}

impl RabbitExporter {
    pub fn new(url: &str, exchange: &str) -> Self {
        Self {
            url: url.to_owned(),
            exchange: exchange.to_owned(),
            link: Mutex::new(None),
        }
    }

    async fn connect(&self) -> Result<(Connection, Channel), lapin::Error> {
        let properties = ConnectionProperties::default().with_connection_name("plaza".into());
        let connection = Connection::connect(&self.url, properties).await?;
        let channel = connection.create_channel().await?;
        channel
            .exchange_declare(
                self.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok((connection, channel))
    }

    async fn publish(&self, channel: &Channel, batch: &[Outgoing<'_>]) -> Result<(), ExportError> {
        let failed = |e: lapin::Error| ExportError::Publish(e.to_string());
        let mut confirms = Vec::with_capacity(batch.len());
        for event in batch {
            let properties = BasicProperties::default()
                .with_delivery_mode(PERSISTENT)
                .with_content_type("application/json".into())
                .with_message_id(event.id.into())
                .with_type(event.kind.into());
            let confirm = channel
                .basic_publish(
                    self.exchange.as_str().into(),
                    event.kind.into(),
                    BasicPublishOptions::default(),
                    event.payload,
                    properties,
                )
                .await
                .map_err(failed)?;
            confirms.push(confirm);
        }
        for confirm in confirms {
            let confirmation = confirm.await.map_err(failed)?;
            if !confirmation.is_ack() {
                return Err(ExportError::Publish("the broker refused a message".into()));
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Exporter for RabbitExporter {
    fn broker(&self) -> &'static str {
        "rabbitmq"
    }

    async fn export(&self, batch: &[Outgoing<'_>]) -> Result<(), ExportError> {
        let mut link = self.link.lock().await;
        if link.as_ref().is_none_or(|(c, _)| !c.status().connected()) {
            *link = None;
            let fresh = self
                .connect()
                .await
                .map_err(|e| ExportError::Connect(e.to_string()))?;
            *link = Some(fresh);
        }
        let Some((_, channel)) = link.as_ref() else {
            unreachable!("connected just above");
        };
        let outcome = self.publish(channel, batch).await;
        if outcome.is_err() {
            // Start over on a fresh connection next time.
            if let Some((connection, _)) = link.take() {
                let _ = connection.close(0, "export failed".into()).await;
            }
        }
        outcome
    }
}
