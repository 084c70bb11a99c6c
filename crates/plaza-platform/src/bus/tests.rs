use std::time::Duration;

use super::*;
use crate::testing::redis_for_test;

async fn next(sub: &mut Subscription) -> Message {
    tokio::time::timeout(Duration::from_secs(5), sub.recv())
        .await
        .expect("a message within 5s")
        .expect("a message, not an error")
}

async fn delivers_to_every_subscriber_of_a_topic_only(a: &dyn Bus, b: &dyn Bus) {
    let mut one = a.subscribe("chat:1").await.unwrap();
    let mut two = b.subscribe("chat:1").await.unwrap();
    let mut other = b.subscribe("chat:2").await.unwrap();
    // Redis subscriptions are confirmed before `subscribe` returns.
    a.publish("chat:1", Bytes::from_static(b"hello"))
        .await
        .unwrap();
    let m1 = next(&mut one).await;
    let m2 = next(&mut two).await;
    assert_eq!((&*m1.topic, &m1.payload[..]), ("chat:1", &b"hello"[..]));
    assert_eq!(m2.payload, m1.payload);
    b.publish("chat:2", Bytes::from_static(b"elsewhere"))
        .await
        .unwrap();
    assert_eq!(&next(&mut other).await.payload[..], b"elsewhere");
    assert!(
        one.rx.is_empty() && two.rx.is_empty(),
        "chat:2 leaked into chat:1"
    );
}

#[tokio::test]
async fn memory_bus_fans_out_by_topic() {
    let bus = MemoryBus::new();
    delivers_to_every_subscriber_of_a_topic_only(&bus, &bus).await;
}

#[tokio::test]
async fn memory_bus_reports_lag_and_forgets_dropped_topics() {
    let bus = MemoryBus::new();
    let mut slow = bus.subscribe("t").await.unwrap();
    for i in 0..(CAPACITY + 10) {
        bus.publish("t", Bytes::from(i.to_string())).await.unwrap();
    }
    assert_eq!(slow.recv().await.unwrap_err(), RecvError::Lagged(10));
    assert_eq!(&slow.recv().await.unwrap().payload[..], b"10");
    drop(slow);
    bus.publish("t", Bytes::new()).await.unwrap();
    assert!(bus.topics.senders.lock().unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn redis_bus_reaches_subscribers_on_other_nodes() {
    let redis = redis_for_test().await;
    let node_a = RedisBus::connect(&redis).await.unwrap();
    let node_b = RedisBus::connect(&redis).await.unwrap();
    delivers_to_every_subscriber_of_a_topic_only(&node_a, &node_b).await;
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn redis_bus_keeps_deployments_apart_by_prefix() {
    let ours = redis_for_test().await;
    let theirs = redis_for_test().await;
    let ours_bus = RedisBus::connect(&ours).await.unwrap();
    let theirs_bus = RedisBus::connect(&theirs).await.unwrap();
    let mut sub = ours_bus.subscribe("x").await.unwrap();
    theirs_bus
        .publish("x", Bytes::from_static(b"not for you"))
        .await
        .unwrap();
    ours_bus
        .publish("x", Bytes::from_static(b"for you"))
        .await
        .unwrap();
    assert_eq!(&next(&mut sub).await.payload[..], b"for you");
}
