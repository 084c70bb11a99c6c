//! What readiness asks of each backing service.

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::NotReady;
use crate::state::AppState;

/// How long one readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Asks the database and every configured service at once: each is `ok`
/// or `unavailable` (the cause goes to the log, not the answer).
#[tracing::instrument(skip_all)]
pub async fn readiness(state: &AppState) -> Result<BTreeMap<&'static str, String>, NotReady> {
    let database = check(state.db.ping());
    let redis = async {
        match &state.redis {
            Some(redis) => Some(check(redis.ping()).await),
            None => None,
        }
    };
    let storage = async {
        if state.storage.is_remote() {
            Some(check(state.storage.ping()).await)
        } else {
            None
        }
    };
    let (database, redis, storage) = tokio::join!(database, redis, storage);
    let mut results = vec![("database", database)];
    results.extend(redis.map(|r| ("redis", r)));
    results.extend(storage.map(|r| ("storage", r)));

    let mut checks = BTreeMap::new();
    let mut failed = Vec::new();
    for (name, result) in results {
        match result {
            Ok(()) => {
                checks.insert(name, "ok".to_owned());
            }
            Err(reason) => {
                // The cause goes to the log; the answer only names the service.
                tracing::error!(service = name, reason, "readiness check failed");
                checks.insert(name, "unavailable".to_owned());
                failed.push(name);
            }
        }
    }
    if failed.is_empty() {
        Ok(checks)
    } else {
        Err(NotReady { failed, checks })
    }
}

async fn check<E: std::fmt::Display>(
    probe: impl Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
    }
}
