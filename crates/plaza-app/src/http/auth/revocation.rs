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

fn owner_key(session: SessionId) -> String {
    format!("auth:session:{session}")
}

/// What a token's session says about the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Live,
    Revoked,
    /// No such session, or another user's.
    NotTheirs,
}

impl Standing {
    fn of(theirs: bool, revoked: bool) -> Self {
        match (revoked, theirs) {
            (true, _) => Self::Revoked,
            (false, true) => Self::Live,
            (false, false) => Self::NotTheirs,
        }
    }
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

    /// Whether `session` has ended (its owner unchecked: [`Self::standing`]).
    pub async fn is_revoked(&self, db: &Db, session: SessionId, now: Timestamp) -> bool {
        self.load_recent(db, now).await;
        if self.local.contains_key(&session) {
            return true;
        }
        match self.cache.lookup(&key(session)).await {
            Lookup::Hit(_) => true,
            Lookup::Miss => false,
            // Redis is away: another node's revocation is only in the database.
            Lookup::Unknown => self
                .row(db, session)
                .await
                .map_or(true, |row| row.is_some_and(|(_, revoked)| revoked)),
        }
    }

    /// Whether `session` is live and `user`'s. A signed token naming a
    /// session that was never opened, or another user's, is refused even
    /// though its signature holds. Answered from this node's markers and
    /// the cache (a session's owner is cached for a token's lifetime: a
    /// session never changes hands); otherwise — not known here, or Redis
    /// away, when another node's revocation is only in the database — by
    /// one read of the session's row.
    pub async fn standing(
        &self,
        db: &Db,
        session: SessionId,
        user: UserId,
        now: Timestamp,
    ) -> Standing {
        self.load_recent(db, now).await;
        if self.local.contains_key(&session) {
            return Standing::Revoked;
        }
        let marker = self.cache.lookup(&key(session)).await;
        if matches!(marker, Lookup::Hit(_)) {
            return Standing::Revoked;
        }
        let owner_key = owner_key(session);
        if marker == Lookup::Miss
            && let Some(owner) = self.cache.get(&owner_key).await
        {
            return Standing::of(owner.as_ref() == user.to_string().as_bytes(), false);
        }
        match self.row(db, session).await {
            Ok(Some((owner, revoked))) => {
                let value = bytes::Bytes::from(owner.to_string());
                self.cache.set(&owner_key, value, self.ttl).await;
                Standing::of(owner == user, revoked)
            }
            Ok(None) => Standing::NotTheirs,
            Err(e) => {
                // Neither store answers: refuse rather than let a revoked
                // token through.
                tracing::warn!(error = %e, "cannot check a token's session; refusing it");
                Standing::Revoked
            }
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn row(
        &self,
        db: &Db,
        session: SessionId,
    ) -> Result<Option<(UserId, bool)>, sqlx::Error> {
        // The timestamp itself: `IS NOT NULL` decodes as an integer on SQLite.
        let row: Option<(UserId, Option<Timestamp>)> =
            sqlx::query_as("SELECT user_id, revoked_at FROM sessions WHERE id = $1")
                .bind(session)
                .fetch_optional(db.fresh())
                .await?;
        Ok(row.map(|(owner, revoked_at)| (owner, revoked_at.is_some())))
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
