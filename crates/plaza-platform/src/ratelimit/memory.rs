use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use governor::Quota;
use governor::clock::Clock as GovernorClock;
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use plaza_core::SharedClock;

use super::{Decision, RateLimiter};
use crate::config::Rate;

/// governor reads time through the application clock, so tests can move it.
#[derive(Clone, Debug)]
struct AppClock(SharedClock);

impl GovernorClock for AppClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let micros = self.0.now().as_jiff().as_microsecond();
        Nanos::from(u64::try_from(micros).unwrap_or(0).saturating_mul(1_000))
    }
}

type Keyed =
    governor::RateLimiter<String, DashMapStateStore<String>, AppClock, StateInformationMiddleware>;

/// Checks between sweeps of keys whose budget is whole again.
const SWEEP_EVERY: u64 = 4096;

/// Rate limits inside one process.
#[derive(Debug)]
pub struct MemoryLimiter {
    clock: AppClock,
    limiters: Mutex<HashMap<(String, u32, std::time::Duration), Arc<Keyed>>>,
    checks: AtomicU64,
}

impl MemoryLimiter {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock: AppClock(clock),
            limiters: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        }
    }

    fn limiter(&self, class: &str, rate: Rate) -> Option<Arc<Keyed>> {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (class.to_owned(), rate.count, rate.period);
        if let Some(l) = limiters.get(&id) {
            return Some(Arc::clone(l));
        }
        let quota = Quota::with_period(rate.interval())?.allow_burst(NonZeroU32::new(rate.count)?);
        let limiter = Arc::new(
            governor::RateLimiter::dashmap_with_clock(quota, self.clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
        );
        limiters.insert(id, Arc::clone(&limiter));
        Some(limiter)
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, class: &str, rate: Rate, key: &str) -> Decision {
        let Some(limiter) = self.limiter(class, rate) else {
            return Decision::pass(rate);
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let interval = rate.interval();
        match limiter.check_key(&key.to_owned()) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    limit: rate.count,
                    remaining,
                    reset_after: interval * (rate.count - remaining),
                    retry_after: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Decision {
                    allowed: false,
                    limit: rate.count,
                    remaining: 0,
                    reset_after: wait + interval * (rate.count - 1),
                    retry_after: Some(wait),
                }
            }
        }
    }
}
