//! The clock port: every part of plaza reads time through it, so tests can
//! set and advance time instead of sleeping.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + Debug + 'static {
    fn now(&self) -> Timestamp;
}

/// The clock shared through the application state.
pub type SharedClock = Arc<dyn Clock>;

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_jiff(jiff::Timestamp::now())
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = t;
    }

    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(d);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_time() {
        let start: Timestamp = "2026-03-29T00:59:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        let shared: SharedClock = Arc::new(clock.clone());
        assert_eq!(shared.now(), start);
        clock.advance(Duration::from_secs(120));
        assert_eq!(shared.now().to_string(), "2026-03-29T01:01:00.000000Z");
        clock.set(start);
        assert_eq!(shared.now(), start);
    }

    #[test]
    fn system_clock_is_microsecond_precise() {
        let now = SystemClock.now();
        assert_eq!(now.as_jiff().subsec_nanosecond() % 1000, 0);
    }
}
