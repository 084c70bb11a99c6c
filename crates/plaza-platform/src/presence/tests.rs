use std::sync::Arc;
use std::time::Duration;

use plaza_core::{ManualClock, Timestamp};

use super::*;

async fn behaves(presence: &dyn Presence, clock: &ManualClock) {
    let ttl = Duration::from_secs(30);
    let users = vec!["ana".to_owned(), "bob".to_owned()];
    assert!(presence.online(&users).await.is_empty());
    presence.touch("ana", "phone", ttl).await;
    presence.touch("ana", "laptop", ttl).await;
    assert_eq!(presence.online(&users).await, ["ana"]);
    // One connection closing leaves the other.
    presence.leave("ana", "phone").await;
    assert_eq!(presence.online(&users).await, ["ana"]);
    // A connection that stops beating expires.
    clock.advance(Duration::from_secs(31));
    assert!(presence.online(&users).await.is_empty());
    presence.touch("bob", "tab", ttl).await;
    clock.advance(Duration::from_secs(20));
    presence.touch("bob", "tab", ttl).await;
    clock.advance(Duration::from_secs(20));
    assert_eq!(presence.online(&users).await, ["bob"]);
    presence.leave("bob", "tab").await;
    assert!(presence.online(&users).await.is_empty());
}

/// `a` and `b` are two nodes' views of one presence (the same for memory).
async fn sweeps(a: &dyn Presence, b: &dyn Presence, clock: &ManualClock) {
    let ttl = Duration::from_secs(30);
    a.touch("ana", "phone", ttl).await;
    a.touch("bob", "tab", ttl).await;
    a.touch("cy", "tab", ttl).await;
    a.leave("cy", "tab").await;
    assert!(a.expired().await.is_empty(), "nobody expired yet");
    clock.advance(Duration::from_secs(20));
    b.touch("bob", "tab", ttl).await;
    clock.advance(Duration::from_secs(11));
    // Ana's node died: her connection expired. Bob beat in time; Cy said
    // goodbye, so nobody needs to announce her.
    let (first, second) = (a.expired().await, b.expired().await);
    let mut all = [first.clone(), second.clone()].concat();
    all.sort();
    assert_eq!(all, ["ana"], "claimed once: {first:?} {second:?}");
    assert!(a.expired().await.is_empty() && b.expired().await.is_empty());
    clock.advance(Duration::from_secs(30));
    assert_eq!(b.expired().await, ["bob"]);
}

#[tokio::test]
async fn in_process_presence_hands_out_expired_users_once() {
    let clock = ManualClock::new("2026-11-23T12:00:00Z".parse::<Timestamp>().unwrap());
    let presence = MemoryPresence::new(Arc::new(clock.clone()));
    sweeps(&presence, &presence, &clock).await;
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn redis_presence_hands_out_expired_users_to_one_node() {
    let clock = ManualClock::new("2026-11-23T12:00:00Z".parse::<Timestamp>().unwrap());
    let redis = crate::testing::redis_for_test().await;
    let a = RedisPresence::new(redis.clone(), Arc::new(clock.clone()));
    let b = RedisPresence::new(redis, Arc::new(clock.clone()));
    sweeps(&a, &b, &clock).await;
}

#[tokio::test]
async fn in_process_presence_follows_heartbeats() {
    let clock = ManualClock::new("2026-11-23T12:00:00Z".parse::<Timestamp>().unwrap());
    let presence = MemoryPresence::new(Arc::new(clock.clone()));
    behaves(&presence, &clock).await;
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn redis_presence_follows_heartbeats() {
    let clock = ManualClock::new("2026-11-23T12:00:00Z".parse::<Timestamp>().unwrap());
    let redis = crate::testing::redis_for_test().await;
    let presence = RedisPresence::new(redis, Arc::new(clock.clone()));
    behaves(&presence, &clock).await;
}
