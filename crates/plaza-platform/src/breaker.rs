//! A circuit breaker for an optional backing service (Redis, later the AI
//! and push providers): after `threshold` failures in a row it opens, and
//! for `cooldown` every call is refused at once instead of waiting for a
//! timeout; then one call is let through as a probe, which closes it again
//! or opens it for another cooldown. Callers already have a fallback for a
//! refused call (an in-process limiter, a cache miss, a database read), so
//! an outage costs them nothing but the fallback.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out since `since`; a probe that never reports (its
    /// future was dropped) is replaced after a cooldown.
    Probing {
        since: Instant,
    },
}

#[derive(Debug)]
pub struct Breaker {
    service: &'static str,
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(service: &'static str, threshold: u32, cooldown: Duration) -> Self {
        metrics::gauge!("plaza_breaker_open", "service" => service).set(0.0);
        Self {
            service,
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Whether a call may go out now. Every allowed call must be followed by
    /// [`Breaker::success`] or [`Breaker::failure`].
    pub fn allow(&self) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        let allowed = match *state {
            State::Closed { .. } => true,
            State::Open { until } | State::Probing { since: until } if now < until => false,
            State::Open { .. } | State::Probing { .. } => {
                *state = State::Probing {
                    since: now + self.cooldown,
                };
                true
            }
        };
        if !allowed {
            metrics::counter!("plaza_breaker_refused_total", "service" => self.service)
                .increment(1);
        }
        allowed
    }

    pub fn success(&self) {
        let mut state = self.lock();
        if !matches!(*state, State::Closed { .. }) {
            tracing::info!(service = self.service, "back; circuit closed");
            metrics::gauge!("plaza_breaker_open", "service" => self.service).set(0.0);
        }
        *state = State::Closed { failures: 0 };
    }

    pub fn failure(&self) {
        let mut state = self.lock();
        let failures = match *state {
            State::Closed { failures } => failures + 1,
            State::Open { .. } | State::Probing { .. } => self.threshold,
        };
        if failures < self.threshold {
            *state = State::Closed { failures };
            return;
        }
        if matches!(*state, State::Closed { .. }) {
            tracing::warn!(
                service = self.service,
                cooldown_ms = self.cooldown.as_millis() as u64,
                "unreachable; circuit open, calls refused at once until a probe succeeds"
            );
            metrics::gauge!("plaza_breaker_open", "service" => self.service).set(1.0);
        }
        *state = State::Open {
            until: Instant::now() + self.cooldown,
        };
    }

    /// Whether calls are being refused right now (for `/ready`).
    pub fn is_open(&self) -> bool {
        !matches!(*self.lock(), State::Closed { .. })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value: a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(2);

    #[tokio::test(start_paused = true)]
    async fn opens_after_the_threshold_and_refuses_until_the_cooldown_ends() {
        let breaker = Breaker::new("test", 2, COOLDOWN);
        assert!(breaker.allow());
        breaker.failure();
        assert!(breaker.allow(), "one failure is under the threshold");
        breaker.failure();
        assert!(!breaker.allow(), "two failures open it");
        assert!(breaker.is_open());
        tokio::time::advance(COOLDOWN - Duration::from_millis(1)).await;
        assert!(!breaker.allow());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(breaker.allow(), "the probe goes out after the cooldown");
        assert!(!breaker.allow(), "only one probe at a time");
        breaker.success();
        assert!(breaker.allow());
        assert!(!breaker.is_open());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_opens_it_for_another_cooldown() {
        let breaker = Breaker::new("test", 1, COOLDOWN);
        breaker.failure();
        tokio::time::advance(COOLDOWN).await;
        assert!(breaker.allow());
        breaker.failure();
        assert!(!breaker.allow());
        tokio::time::advance(COOLDOWN).await;
        assert!(breaker.allow());
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_never_reports_is_replaced() {
        let breaker = Breaker::new("test", 1, COOLDOWN);
        breaker.failure();
        tokio::time::advance(COOLDOWN).await;
        assert!(breaker.allow());
        assert!(!breaker.allow());
        tokio::time::advance(COOLDOWN).await;
        assert!(
            breaker.allow(),
            "a lost probe does not keep it open for ever"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count() {
        let breaker = Breaker::new("test", 2, COOLDOWN);
        breaker.failure();
        breaker.success();
        breaker.failure();
        assert!(breaker.allow(), "failures must be in a row");
    }
}
