use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use plaza_core::{ManualClock, SharedClock, SystemClock, Timestamp};

use super::*;
use crate::bus::{RedisBus, SharedBus};
use crate::testing::redis_for_test;

fn clock() -> (ManualClock, SharedClock) {
    let manual = ManualClock::new("2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
    let shared: SharedClock = Arc::new(manual.clone());
    (manual, shared)
}

#[tokio::test]
async fn memory_cache_stores_expires_and_deletes() {
    let (manual, clock) = clock();
    let cache = MemoryCache::new(1 << 20, clock);
    assert_eq!(cache.get("k").await, None);
    cache
        .set("k", Bytes::from_static(b"v"), Duration::from_secs(60))
        .await;
    assert_eq!(cache.get("k").await.as_deref(), Some(&b"v"[..]));
    manual.advance(Duration::from_secs(59));
    assert!(cache.get("k").await.is_some(), "alive before its TTL");
    manual.advance(Duration::from_secs(1));
    assert_eq!(cache.get("k").await, None, "gone at its TTL");
    cache
        .set("k", Bytes::from_static(b"v2"), Duration::from_secs(60))
        .await;
    cache.delete("k").await;
    assert_eq!(cache.get("k").await, None);
}

#[tokio::test]
async fn json_helpers_round_trip_and_treat_garbage_as_a_miss() {
    let (_, clock) = clock();
    let cache = MemoryCache::new(1 << 20, clock);
    cache
        .set_json("stats", &vec![1, 2, 3], Duration::from_secs(5))
        .await;
    assert_eq!(
        cache.get_json::<Vec<i32>>("stats").await,
        Some(vec![1, 2, 3])
    );
    cache
        .set(
            "bad",
            Bytes::from_static(b"{not json"),
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(cache.get_json::<Vec<i32>>("bad").await, None);
}

#[tokio::test]
async fn memory_cache_stays_within_its_byte_budget() {
    let cache = MemoryCache::new(64 << 10, Arc::new(SystemClock));
    for i in 0..1000 {
        cache
            .set(
                &format!("k{i}"),
                Bytes::from(vec![0u8; 1024]),
                Duration::from_secs(60),
            )
            .await;
    }
    cache.entries.run_pending_tasks().await;
    assert!(
        cache.entries.weighted_size() <= 64 << 10,
        "{}",
        cache.entries.weighted_size()
    );
    assert!(cache.entries.entry_count() < 1000);
}

async fn node(redis: &crate::redis::Redis) -> LayeredCache {
    let bus: SharedBus = Arc::new(RedisBus::connect(redis).await.unwrap());
    let local = MemoryCache::new(1 << 20, Arc::new(SystemClock));
    LayeredCache::new(local, redis.clone(), bus, Duration::from_secs(300))
        .await
        .unwrap()
}

/// Polls until `check` holds: invalidations cross nodes asynchronously.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 5s");
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn layered_cache_shares_values_and_invalidates_across_nodes() {
    let redis = redis_for_test().await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let ttl = Duration::from_secs(60);

    a.set("profile:1", Bytes::from_static(b"v1"), ttl).await;
    assert_eq!(
        b.get("profile:1").await.as_deref(),
        Some(&b"v1"[..]),
        "read through to Redis"
    );
    // b now holds v1 in memory for up to 300s; a's write must evict it.
    a.set("profile:1", Bytes::from_static(b"v2"), ttl).await;
    eventually("b sees v2", async || {
        b.get("profile:1").await.as_deref() == Some(&b"v2"[..])
    })
    .await;
    assert_eq!(a.get("profile:1").await.as_deref(), Some(&b"v2"[..]));

    b.delete("profile:1").await;
    eventually("a sees the delete", async || {
        a.get("profile:1").await.is_none()
    })
    .await;
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn layered_cache_expires_in_redis() {
    let redis = redis_for_test().await;
    let a = node(&redis).await;
    a.set(
        "short",
        Bytes::from_static(b"x"),
        Duration::from_millis(200),
    )
    .await;
    let ttl: i64 =
        fred::interfaces::KeysInterface::pttl(redis.pool().next(), redis.key("cache:short"))
            .await
            .unwrap();
    assert!(ttl > 0 && ttl <= 200, "Redis TTL {ttl}ms");
}
