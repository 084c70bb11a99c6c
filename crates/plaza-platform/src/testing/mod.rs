//! Helpers for tests that need the real backing services. Tests that use
//! them are `#[ignore = "needs …"]`; `.ci/run` starts the services and runs
//! them. The addresses come from `TEST_REDIS_URL`, `TEST_POSTGRES_URL`,
//! `TEST_RABBITMQ_URL` and `TEST_NATS_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::config::{Dsn, RedisConfig};
use crate::redis::Redis;

mod servers;

pub use servers::{NatsServer, PgCluster, RabbitServer, RedisServer};

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn rabbitmq_url() -> String {
    std::env::var("TEST_RABBITMQ_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A name no other test uses, for an exchange, queue or stream.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A message as a test consumer sees it: routing key or subject, message
/// id, payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub key: String,
    pub id: String,
    pub payload: Vec<u8>,
    /// RabbitMQ's delivery mode (2 = persistent); `None` on NATS.
    pub delivery_mode: Option<u8>,
}

/// A durable RabbitMQ queue bound to every key of `exchange` (declared
/// here too, as the exporter declares it), surviving a broker restart.
pub async fn rabbitmq_queue(exchange: &str) -> String {
    rabbitmq_queue_at(&rabbitmq_url(), exchange).await
}

/// [`rabbitmq_queue`] on the broker at `url`.
pub async fn rabbitmq_queue_at(url: &str, exchange: &str) -> String {
    use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
    use lapin::types::FieldTable;
    let connection = rabbitmq_connect(url).await;
    let channel = connection.create_channel().await.unwrap();
    channel
        .exchange_declare(
            exchange.into(),
            lapin::ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let queue = unique_name("plaza_test_queue");
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            queue.as_str().into(),
            exchange.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let _ = connection.close(200, "done".into()).await;
    queue
}

async fn rabbitmq_connect(url: &str) -> lapin::Connection {
    lapin::Connection::connect(url, lapin::ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| panic!("RabbitMQ is needed for this test ({url}): {e}"))
}

/// Takes every message now in `queue`, in order, then deletes the queue
/// and `exchange`.
pub async fn rabbitmq_drain(queue: &str, exchange: &str) -> Vec<Received> {
    rabbitmq_drain_at(&rabbitmq_url(), queue, exchange).await
}

/// [`rabbitmq_drain`] on the broker at `url`.
pub async fn rabbitmq_drain_at(url: &str, queue: &str, exchange: &str) -> Vec<Received> {
    use lapin::options::BasicGetOptions;
    let connection = rabbitmq_connect(url).await;
    let channel = connection.create_channel().await.unwrap();
    let mut got = Vec::new();
    while let Some(message) = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
    {
        let delivery = message.delivery;
        got.push(Received {
            key: delivery.routing_key.to_string(),
            id: delivery
                .properties
                .message_id()
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            delivery_mode: *delivery.properties.delivery_mode(),
            payload: delivery.data,
        });
    }
    let _ = connection.close(200, "done".into()).await;
    rabbitmq_delete(queue, exchange).await;
    got
}

/// Deletes a queue and an exchange a test or benchmark made.
pub async fn rabbitmq_delete(queue: &str, exchange: &str) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let connection = rabbitmq_connect(&rabbitmq_url()).await;
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await
        .unwrap();
    let _ = connection.close(200, "done".into()).await;
}

/// Every message in the JetStream `stream` at `url`, in order; the stream is
/// deleted afterwards.
pub async fn nats_drain(url: &str, stream: &str) -> Vec<Received> {
    let client = async_nats::connect(url)
        .await
        .unwrap_or_else(|e| panic!("NATS is needed for this test ({url}): {e}"));
    let context = async_nats::jetstream::new(client);
    let mut handle = context.get_stream(stream).await.unwrap();
    let info = handle.info().await.unwrap().state.clone();
    let mut got = Vec::new();
    for sequence in info.first_sequence..=info.last_sequence {
        if info.messages == 0 {
            break;
        }
        let message = handle.get_raw_message(sequence).await.unwrap();
        got.push(Received {
            key: message.subject.to_string(),
            id: message
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.to_string())
                .unwrap_or_default(),
            payload: message.payload.to_vec(),
            delivery_mode: None,
        });
    }
    context.delete_stream(stream).await.unwrap();
    got
}

/// How many messages the JetStream `stream` holds; the stream is deleted.
pub async fn nats_count_and_delete(url: &str, stream: &str) -> u64 {
    let context = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let mut handle = context.get_stream(stream).await.unwrap();
    let messages = handle.info().await.unwrap().state.messages;
    context.delete_stream(stream).await.unwrap();
    messages
}

/// A Redis connection whose keys and channels no other test shares.
pub async fn redis_for_test() -> Redis {
    redis_at(&redis_url()).await
}

/// A connection to the Redis at `url`, with a key prefix of its own.
pub async fn redis_at(url: &str) -> Redis {
    let config = RedisConfig {
        url: None,
        pool_size: 2,
        key_prefix: format!("plaza-test:{}:", uuid::Uuid::now_v7().simple()),
        ..RedisConfig::default()
    };
    Redis::connect(&Dsn::new(url.to_owned()), &config)
        .await
        .unwrap_or_else(|e| panic!("Redis is needed for this test: {e}"))
}

/// A PostgreSQL database of its own, dropped when this is dropped.
pub struct TestPostgres {
    pub url: String,
    name: String,
}

impl TestPostgres {
    pub async fn create() -> Self {
        use sqlx::Connection;
        let admin_url = postgres_url();
        let name = format!("plaza_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is needed for this test ({admin_url}): {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a thread of its own may block.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}
