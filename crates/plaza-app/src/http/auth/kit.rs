//! The token machinery a node holds, apart from any request: the signing
//! key, the key that seals stored secrets, and the revocation list.

use plaza_core::Timestamp;
use plaza_platform::config::AuthConfig;
use plaza_platform::db::Db;
use plaza_platform::seal::Sealer;
use tokio::sync::OnceCell;

use super::jwt::Signer;
use super::revocation::Revocations;

/// The auth machinery a node holds: its signing key (loaded on first use,
/// after migrations) and the revocation list.
#[derive(Debug)]
pub struct AuthKit {
    signer: OnceCell<Signer>,
    sealer: OnceCell<Sealer>,
    pub revocations: Revocations,
}

impl AuthKit {
    pub fn new(cache: plaza_platform::cache::SharedCache, access_ttl: std::time::Duration) -> Self {
        Self {
            signer: OnceCell::new(),
            sealer: OnceCell::new(),
            revocations: Revocations::new(cache, access_ttl),
        }
    }

    /// The deployment's signing key, loaded (or made) on first use.
    pub async fn signer(
        &self,
        db: &Db,
        config: &AuthConfig,
        now: Timestamp,
    ) -> Result<&Signer, sqlx::Error> {
        self.signer
            .get_or_try_init(|| Signer::load(db, config, now))
            .await
    }

    /// The key that seals secrets kept in the database (TOTP seeds),
    /// loaded (or made) on first use.
    pub async fn sealer(
        &self,
        db: &Db,
        config: &AuthConfig,
        now: Timestamp,
    ) -> Result<&Sealer, sqlx::Error> {
        self.sealer
            .get_or_try_init(|| plaza_platform::seal::load(db, config, now))
            .await
    }
}
