//! Redis dies under every engine that uses it, and comes back: nothing
//! waits on it while it is away, each engine falls back, and each uses
//! Redis again once it returns.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fred::interfaces::KeysInterface;
use plaza_core::{SharedClock, SystemClock};

use crate::bus::{Bus, RedisBus};
use crate::cache::{Cache, LayeredCache, Lookup, MemoryCache};
use crate::config::Rate;
use crate::presence::{Presence, RedisPresence};
use crate::ratelimit::{RateLimiter, RedisLimiter};
use crate::testing::{RedisServer, redis_at};

/// Far longer than a refused call takes, far shorter than the 5 s a
/// command used to wait for a reconnect.
const NO_WAITING: Duration = Duration::from_secs(2);

async fn at_once<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(NO_WAITING, f)
        .await
        .unwrap_or_else(|_| panic!("{what} waited on a dead Redis"))
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not recover within 30 s");
}

fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

#[tokio::test]
#[ignore = "needs redis-server"]
async fn a_dead_redis_is_refused_at_once_and_used_again_when_it_returns() {
    let mut server = RedisServer::start().await;
    let redis = redis_at(&server.url).await;
    let bus: Arc<dyn Bus> = Arc::new(RedisBus::connect(&redis).await.unwrap());
    let cache = LayeredCache::new(
        MemoryCache::new(1 << 20, clock()),
        redis.clone(),
        bus.clone(),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let limiter = RedisLimiter::new(redis.clone(), clock()).await.unwrap();
    let presence = RedisPresence::new(redis.clone(), clock());
    let rate = Rate::new(3, Duration::from_secs(3600));

    server.kill();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    at_once("a cache read", async {
        assert_eq!(cache.lookup("k").await, Lookup::Unknown, "not a miss");
    })
    .await;
    at_once(
        "a cache write",
        cache.set("k", Bytes::from_static(b"v"), Duration::from_secs(60)),
    )
    .await;
    let allowed = at_once("the limiter", async {
        let mut allowed = 0;
        for _ in 0..5 {
            allowed += u32::from(limiter.check("c", rate, "k").await.allowed);
        }
        allowed
    })
    .await;
    assert_eq!(
        allowed, 3,
        "the node counts on its own: a limit still holds"
    );
    at_once("a publish", async {
        assert!(bus.publish("t", Bytes::from_static(b"x")).await.is_err());
    })
    .await;
    at_once("a subscribe", async {
        assert!(bus.subscribe("t").await.is_err());
    })
    .await;
    at_once(
        "a heartbeat",
        presence.touch("u", "c", Duration::from_secs(30)),
    )
    .await;
    at_once("a presence read", async {
        assert!(presence.online(&["u".into()]).await.is_empty());
    })
    .await;
    at_once("a ping", async { assert!(redis.ping().await.is_err()) }).await;
    assert!(redis.is_down());
    eprintln!(
        "every engine answered without Redis in {:?}",
        started.elapsed()
    );

    server.restart().await;
    let back = eventually("the cache", async || {
        cache
            .set("k2", Bytes::from_static(b"v"), Duration::from_secs(60))
            .await;
        let stored: Option<Vec<u8>> = redis
            .pool()
            .next()
            .get(redis.key("cache:k2"))
            .await
            .unwrap_or(None);
        stored.is_some()
    })
    .await;
    eprintln!("the cache writes to Redis again {back:?} after it restarted");
    eventually("the limiter", async || {
        limiter.check("c", rate, "fresh").await;
        redis
            .pool()
            .next()
            .exists::<i64, _>(redis.key("rl:c:fresh"))
            .await
            .is_ok_and(|n| n == 1)
    })
    .await;
    eventually("the bus", async || {
        let Ok(mut sub) = bus.subscribe("t2").await else {
            return false;
        };
        bus.publish("t2", Bytes::from_static(b"y")).await.is_ok()
            && tokio::time::timeout(Duration::from_secs(1), sub.recv())
                .await
                .is_ok_and(|m| m.is_ok())
    })
    .await;
    assert!(!redis.is_down());
}
