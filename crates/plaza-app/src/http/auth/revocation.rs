//! The list of ended sessions whose access tokens may still be unexpired.
//!
//! Written through the cache port, so with Redis every node sees a
//! revocation on its next request (a revoked marker is read from Redis
//! whenever the node has none; absence is never cached). Each node also
//! keeps the markers it wrote, or loaded from the database at start, in a
//! set that never evicts: an in-process cache under memory pressure must not
//! forget that a session ended.

use std::time::Duration;

use plaza_core::{SessionId, Timestamp};
use plaza_platform::cache::SharedCache;
use plaza_platform::db::Db;
use tokio::sync::OnceCell;

/// Bus topic carrying the id of each session that ended, so every node
/// closes that session's sockets.
pub const SESSION_ENDED_TOPIC: &str = "auth.session.ended";

#[derive(Debug)]
pub struct Revocations {
    cache: SharedCache,
    local: moka::future::Cache<SessionId, ()>,
    ttl: Duration,
    loaded: OnceCell<()>,
}

fn key(session: SessionId) -> String {
    format!("auth:revoked:{session}")
}

impl Revocations {
    /// Markers live as long as an access token can (`ttl`).
    pub fn new(cache: SharedCache, ttl: Duration) -> Self {
        Self {
            cache,
            local: moka::future::Cache::builder().time_to_live(ttl).build(),
            ttl,
            loaded: OnceCell::new(),
        }
    }

    pub async fn revoke(&self, session: SessionId) {
        self.local.insert(session, ()).await;
        self.cache
            .set(&key(session), bytes::Bytes::from_static(b"1"), self.ttl)
            .await;
    }

    pub async fn is_revoked(&self, db: &Db, session: SessionId, now: Timestamp) -> bool {
        self.load_recent(db, now).await;
        self.local.contains_key(&session) || self.cache.get(&key(session)).await.is_some()
    }

    /// Once per process: sessions revoked within one token lifetime, so a
    /// restarted node still refuses their tokens.
    async fn load_recent(&self, db: &Db, now: Timestamp) {
        let loaded = self
            .loaded
            .get_or_try_init(|| async {
                let since = now.saturating_sub(self.ttl);
                let ids: Vec<SessionId> =
                    sqlx::query_scalar("SELECT id FROM sessions WHERE revoked_at >= $1")
                        .bind(since)
                        .fetch_all(db.fresh())
                        .await?;
                for id in ids {
                    self.local.insert(id, ()).await;
                }
                Ok::<(), sqlx::Error>(())
            })
            .await;
        if let Err(e) = loaded {
            // Tried again on the next request.
            tracing::warn!(error = %e, "cannot load recent revocations");
        }
    }
}
