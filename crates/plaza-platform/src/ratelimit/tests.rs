use std::sync::Arc;
use std::time::Duration;

use plaza_core::{ManualClock, Timestamp};

use super::*;
use crate::testing::redis_for_test;

const MINUTE: Duration = Duration::from_secs(60);

fn system() -> plaza_core::SharedClock {
    Arc::new(plaza_core::SystemClock)
}

fn auth_rate() -> Rate {
    Rate::new(5, MINUTE * 15)
}

#[tokio::test]
async fn memory_limiter_allows_the_burst_then_refuses_until_a_slot_frees() {
    let clock = ManualClock::new("2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
    let limiter = MemoryLimiter::new(Arc::new(clock.clone()));
    for expected_remaining in (0..5).rev() {
        let d = limiter.check("auth", auth_rate(), "10.0.0.1").await;
        assert!(d.allowed);
        assert_eq!((d.limit, d.remaining), (5, expected_remaining));
    }
    let refused = limiter.check("auth", auth_rate(), "10.0.0.1").await;
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert_eq!(
        refused.retry_after,
        Some(Duration::from_secs(180)),
        "one slot per 3 minutes"
    );
    assert_eq!(refused.reset_after, MINUTE * 15);

    // Other keys and other classes have their own budgets.
    assert!(limiter.check("auth", auth_rate(), "10.0.0.2").await.allowed);
    assert!(
        limiter
            .check("general", Rate::new(1000, MINUTE * 15), "10.0.0.1")
            .await
            .allowed
    );

    clock.advance(Duration::from_secs(179));
    assert!(!limiter.check("auth", auth_rate(), "10.0.0.1").await.allowed);
    clock.advance(Duration::from_secs(1));
    let d = limiter.check("auth", auth_rate(), "10.0.0.1").await;
    assert!(d.allowed, "a slot frees after the emission interval");
    assert_eq!(d.remaining, 0);
    clock.advance(MINUTE * 15);
    assert_eq!(
        limiter
            .check("auth", auth_rate(), "10.0.0.1")
            .await
            .remaining,
        4,
        "whole again"
    );
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn redis_limiter_counts_like_the_memory_one() {
    let redis = redis_for_test().await;
    let limiter = RedisLimiter::new(redis, system()).await.unwrap();
    let rate = Rate::new(5, Duration::from_secs(3600));
    for expected_remaining in (0..5).rev() {
        let d = limiter.check("auth", rate, "ip-a").await;
        assert!(d.allowed);
        assert_eq!(d.remaining, expected_remaining);
    }
    let refused = limiter.check("auth", rate, "ip-a").await;
    assert!(!refused.allowed);
    let retry = refused.retry_after.unwrap();
    assert!(
        retry > Duration::from_secs(700) && retry <= Duration::from_secs(720),
        "{retry:?}"
    );
    assert!(limiter.check("auth", rate, "ip-b").await.allowed);
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn two_limiters_share_one_redis_budget() {
    let redis = redis_for_test().await;
    let node_a = RedisLimiter::new(redis.clone(), system()).await.unwrap();
    let node_b = RedisLimiter::new(redis, system()).await.unwrap();
    let rate = Rate::new(6, Duration::from_secs(3600));
    let mut allowed = 0;
    for i in 0..12 {
        let node = if i % 2 == 0 { &node_a } else { &node_b };
        if node.check("general", rate, "user-1").await.allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 6, "both nodes drew on one budget of 6");
    assert!(!node_a.check("general", rate, "user-1").await.allowed);
    assert!(!node_b.check("general", rate, "user-1").await.allowed);
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn redis_limiter_reloads_its_script_after_a_flush() {
    let redis = redis_for_test().await;
    let limiter = RedisLimiter::new(redis.clone(), system()).await.unwrap();
    let rate = Rate::new(2, Duration::from_secs(60));
    assert!(limiter.check("c", rate, "k").await.allowed);
    let _: () = fred::interfaces::LuaInterface::script_flush(redis.pool().next(), false)
        .await
        .unwrap();
    let d = limiter.check("c", rate, "k").await;
    assert!(d.allowed);
    assert_eq!(
        d.remaining, 0,
        "the budget survived; only the script was reloaded"
    );
}
