//! Shutdown in two steps that every long-running part (HTTP, WebSockets,
//! job workers) follows: *stopping* — take no new work, let work in flight
//! finish — and, when the deadline passes, *halted* — abandon what is left.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    stopping: CancellationToken,
    halted: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts stopping, and halts after `grace` unless `halt` comes first.
    pub fn begin(&self, grace: Duration) {
        if self.stopping.is_cancelled() {
            return;
        }
        self.stopping.cancel();
        let halted = self.halted.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(grace) => {
                    tracing::warn!(grace = ?grace, "shutdown deadline passed; abandoning work still running");
                    halted.cancel();
                }
                () = halted.cancelled() => {}
            }
        });
    }

    /// Abandons work in flight now.
    pub fn halt(&self) {
        self.stopping.cancel();
        self.halted.cancel();
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    pub async fn stopping(&self) {
        self.stopping.cancelled().await;
    }

    pub async fn halted(&self) {
        self.halted.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn halts_after_the_grace_period() {
        let s = Shutdown::new();
        assert!(!s.is_stopping());
        s.begin(Duration::from_secs(30));
        assert!(s.is_stopping());
        tokio::time::timeout(Duration::from_secs(29), s.halted())
            .await
            .unwrap_err();
        tokio::time::timeout(Duration::from_secs(2), s.halted())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn halt_is_immediate() {
        let s = Shutdown::new();
        s.halt();
        s.stopping().await;
        s.halted().await;
    }
}
