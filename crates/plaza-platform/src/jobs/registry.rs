//! The job kinds a node can run, by name, each bound to the context it
//! runs with.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::{JobKind, Purge};

type Run<C> = Arc<dyn Fn(C, String) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

pub(super) struct Kind<C> {
    pub(super) run: Run<C>,
    pub(super) backoff: (Duration, Duration),
    pub(super) purge: Purge,
}

/// The job kinds a node runs with context `C` (the product's state).
pub struct Registry<C> {
    kinds: HashMap<&'static str, Kind<C>>,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Self {
            kinds: HashMap::new(),
        }
    }
}

impl<C: Clone + Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `J`, run with the part of `C` it asks for (`C` itself, or the
    /// platform inside it).
    pub fn register<J: JobKind>(&mut self) -> &mut Self
    where
        C: AsRef<J::Context>,
    {
        let run: Run<C> = Arc::new(|ctx: C, payload: String| {
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload)?;
                job.run(<C as AsRef<J::Context>>::as_ref(&ctx)).await
            })
        });
        self.kinds.insert(
            J::KIND,
            Kind {
                run,
                backoff: (J::BACKOFF, J::MAX_BACKOFF),
                purge: if J::SENSITIVE {
                    Purge::Erase
                } else {
                    Purge::Keep
                },
            },
        );
        self
    }

    pub(super) fn get(&self, kind: &str) -> Option<&Kind<C>> {
        self.kinds.get(kind)
    }
}
