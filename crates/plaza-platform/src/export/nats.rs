//! NATS JetStream: one message per event on `<prefix>.<type>`, into a
//! stream that is created if missing, each acknowledged by the server.
//! The event id goes in `Nats-Msg-Id`, so a batch sent again after a lost
//! acknowledgement is stored once (within the stream's duplicate window).

use async_nats::HeaderMap;
use async_nats::jetstream::{self, Context, stream};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::OnceCell;

use super::{ExportError, Exporter, Outgoing};

#[derive(Debug)]
pub struct NatsExporter {
    url: String,
    stream: String,
    prefix: String,
    /// The client reconnects by itself once it has connected.
    context: OnceCell<Context>,
    /// The stream was seen since the last failure.
    stream_ready: AtomicBool,
}

impl NatsExporter {
    pub fn new(url: &str, stream: &str, prefix: &str) -> Self {
        Self {
            url: url.to_owned(),
            stream: stream.to_owned(),
            prefix: prefix.to_owned(),
            context: OnceCell::new(),
            stream_ready: AtomicBool::new(false),
        }
    }

    async fn connect(&self) -> Result<Context, ExportError> {
        let client = async_nats::ConnectOptions::new()
            .name("plaza")
            .connect(self.url.as_str())
            .await
            .map_err(|e| ExportError::Connect(e.to_string()))?;
        Ok(jetstream::new(client))
    }

    async fn ensure_stream(&self, context: &Context) -> Result<(), ExportError> {
        context
            .get_or_create_stream(stream::Config {
                name: self.stream.clone(),
                subjects: vec![format!("{}.>", self.prefix)],
                storage: stream::StorageType::File,
                ..stream::Config::default()
            })
            .await
            .map_err(|e| ExportError::Connect(e.to_string()))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Exporter for NatsExporter {
    fn broker(&self) -> &'static str {
        "nats"
    }

    async fn export(&self, batch: &[Outgoing<'_>]) -> Result<(), ExportError> {
        let context = self.context.get_or_try_init(|| self.connect()).await?;
        if !self.stream_ready.load(Ordering::Acquire) {
            self.ensure_stream(context).await?;
            self.stream_ready.store(true, Ordering::Release);
        }
        let outcome = self.publish(context, batch).await;
        if outcome.is_err() {
            // Look for the stream again next time (it may have been deleted).
            self.stream_ready.store(false, Ordering::Release);
        }
        outcome
    }
}

impl NatsExporter {
    async fn publish(&self, context: &Context, batch: &[Outgoing<'_>]) -> Result<(), ExportError> {
        let failed = |e: &dyn std::fmt::Display| ExportError::Publish(e.to_string());
        let mut acks = Vec::with_capacity(batch.len());
        for event in batch {
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", event.id);
            headers.insert("Content-Type", "application/json");
            let ack = context
                .publish_with_headers(
                    format!("{}.{}", self.prefix, event.kind),
                    headers,
                    bytes::Bytes::copy_from_slice(event.payload),
                )
                .await
                .map_err(|e| failed(&e))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| failed(&e))?;
        }
        Ok(())
    }
}
