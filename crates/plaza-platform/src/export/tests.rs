#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Broker, Exporter, NatsExporter, Outgoing, RabbitExporter};
use crate::testing::{self, NatsServer};

fn batch(ids: &[String]) -> Vec<Outgoing<'_>> {
    ids.iter()
        .enumerate()
        .map(|(n, id)| Outgoing {
            id,
            kind: if n % 2 == 0 {
                "user.registered"
            } else {
                "chat.message.created"
            },
            payload: id.as_bytes(),
        })
        .collect()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect()
}

#[test]
fn the_url_scheme_picks_the_broker() {
    assert_eq!(
        Broker::of("amqp://guest:guest@localhost:5672/%2f"),
        Some(Broker::Rabbit)
    );
    assert_eq!(Broker::of("AMQPS://host"), Some(Broker::Rabbit));
    assert_eq!(Broker::of("nats://127.0.0.1:4222"), Some(Broker::Nats));
    assert_eq!(Broker::of("tls://nats.internal:4222"), Some(Broker::Nats));
    assert_eq!(Broker::of("kafka://broker:9092"), None);
    assert_eq!(Broker::of("localhost:5672"), None);
}

#[tokio::test]
async fn a_broker_that_is_down_is_an_error_not_a_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ids = ids(1);
    let rabbit = RabbitExporter::new(&format!("amqp://127.0.0.1:{port}/%2f"), "x");
    assert!(rabbit.export(&batch(&ids)).await.is_err());
    let nats = NatsExporter::new(&format!("nats://127.0.0.1:{port}"), "S", "p");
    assert!(nats.export(&batch(&ids)).await.is_err());
}

#[tokio::test]
#[ignore = "needs RabbitMQ"]
async fn rabbitmq_gets_persistent_messages_routed_by_type_in_order() {
    let exchange = testing::unique_name("plaza_test_exchange");
    let queue = testing::rabbitmq_queue(&exchange).await;
    let exporter = RabbitExporter::new(&testing::rabbitmq_url(), &exchange);
    let first = ids(5);
    let second = ids(3);
    exporter.export(&batch(&first)).await.unwrap();
    exporter.export(&batch(&second)).await.unwrap();

    let got = testing::rabbitmq_drain(&queue, &exchange).await;
    let want: Vec<&String> = first.iter().chain(&second).collect();
    assert_eq!(got.iter().map(|r| &r.id).collect::<Vec<_>>(), want);
    assert_eq!(got[0].key, "user.registered");
    assert_eq!(got[1].key, "chat.message.created");
    assert!(got.iter().all(|r| r.delivery_mode == Some(2)), "persistent");
    assert_eq!(got[0].payload, first[0].as_bytes());
}

#[tokio::test]
#[ignore = "needs NATS with JetStream"]
async fn nats_creates_the_stream_and_stores_a_repeated_batch_once() {
    let stream = testing::unique_name("PLAZA_TEST");
    let prefix = testing::unique_name("plaza_test");
    let url = testing::nats_url();
    let exporter = NatsExporter::new(&url, &stream, &prefix);
    let sent = ids(4);
    exporter.export(&batch(&sent)).await.unwrap();
    // A batch sent again (its confirmation lost) is not stored twice.
    exporter.export(&batch(&sent)).await.unwrap();

    let got = testing::nats_drain(&url, &stream).await;
    assert_eq!(
        got.iter().map(|r| &r.id).collect::<Vec<_>>(),
        sent.iter().collect::<Vec<_>>()
    );
    assert_eq!(got[0].key, format!("{prefix}.user.registered"));
    assert_eq!(got[1].key, format!("{prefix}.chat.message.created"));
}

#[tokio::test]
#[ignore = "needs nats-server"]
async fn nats_export_fails_while_the_server_is_down_and_resumes_after() {
    let mut server = NatsServer::start().await;
    let exporter = NatsExporter::new(&server.url, "PLAZA", "plaza");
    let before = ids(2);
    exporter.export(&batch(&before)).await.unwrap();
    server.stop();
    let during = ids(2);
    let outage = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        exporter.export(&batch(&during)),
    )
    .await
    .expect("a failure, not a hang");
    assert!(outage.is_err());
    server.restart().await;
    let mut sent = false;
    for _ in 0..50 {
        if exporter.export(&batch(&during)).await.is_ok() {
            sent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(sent, "export resumes once the server is back");
    let got = testing::nats_drain(&server.url, "PLAZA").await;
    let want: Vec<&String> = before.iter().chain(&during).collect();
    assert_eq!(got.iter().map(|r| &r.id).collect::<Vec<_>>(), want);
}
