//! The list of ended sessions whose access tokens may still be unexpired.
//!
//! Written through the cache port, so with Redis every node sees a
//! revocation on its next request (a revoked marker is read from Redis
//! whenever the node has none; absence is never cached). Each node also
//! keeps the markers it wrote, or loaded from the database at start, in a
//! set that never evicts: an in-process cache under memory pressure must not
//! forget that a session ended.

use std::time::Duration;

use plaza_core::{SessionId, Timestamp, UserId};
use plaza_platform::cache::{Lookup, SharedCache};
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
        if self.local.contains_key(&session) {
            return true;
        }
        match self.cache.lookup(&key(session)).await {
            Lookup::Hit(_) => true,
            Lookup::Miss => false,
            // Redis is away: another node's revocation is only in the database.
            Lookup::Unknown => self.revoked_in_database(db, session).await,
        }
    }

    /// Whether `session` exists and is `user`'s: a signed token naming a
    /// session that was never opened, or another user's, is refused even
    /// though its signature holds. Known pairs are cached for a token's
    /// lifetime (a session never changes hands).
    pub async fn belongs(&self, db: &Db, session: SessionId, user: UserId) -> bool {
        let key = format!("auth:session:{session}");
        if let Some(owner) = self.cache.get(&key).await {
            return owner.as_ref() == user.to_string().as_bytes();
        }
        let owner: Result<Option<UserId>, sqlx::Error> =
            sqlx::query_scalar("SELECT user_id FROM sessions WHERE id = $1")
                .bind(session)
                .fetch_optional(db.fresh())
                .await;
        match owner {
            Ok(Some(owner)) => {
                let value = bytes::Bytes::from(owner.to_string());
                self.cache.set(&key, value, self.ttl).await;
                owner == user
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check a token's session; refusing it");
                false
            }
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoked_in_database(&self, db: &Db, session: SessionId) -> bool {
        let revoked: Result<Option<bool>, sqlx::Error> =
            sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM sessions WHERE id = $1")
                .bind(session)
                .fetch_optional(db.fresh())
                .await;
        match revoked {
            Ok(found) => found.unwrap_or(false),
            Err(e) => {
                // Neither store answers: refuse rather than let a revoked
                // token through.
                tracing::warn!(error = %e, "cannot check a session's revocation; refusing it");
                true
            }
        }
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
