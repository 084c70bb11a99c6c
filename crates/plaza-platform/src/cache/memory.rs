use std::time::Duration;

use bytes::Bytes;
use moka::Expiry;
use plaza_core::{SharedClock, Timestamp};

use super::{Cache, Lookup, record};

#[derive(Clone)]
pub(super) struct Entry {
    pub(super) value: Bytes,
    pub(super) expires_at: Timestamp,
    ttl: Duration,
}

/// Evicts entries after their own TTL (moka's clock), so memory is reclaimed;
/// reads also check the application clock, so tests can move time.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Entry,
        _now: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The cache inside one process, bounded by bytes.
#[derive(Clone)]
pub struct MemoryCache {
    pub(super) entries: moka::future::Cache<String, Entry>,
    clock: SharedClock,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl MemoryCache {
    pub fn new(capacity_bytes: u64, clock: SharedClock) -> Self {
        let entries = moka::future::Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|key: &String, entry: &Entry| {
                u32::try_from(key.len() + entry.value.len() + 64).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        Self { entries, clock }
    }

    pub(super) async fn get_entry(&self, key: &str) -> Option<Entry> {
        let entry = self.entries.get(key).await?;
        if entry.expires_at <= self.clock.now() {
            self.entries.invalidate(key).await;
            return None;
        }
        Some(entry)
    }

    pub(super) async fn put(&self, key: &str, value: Bytes, ttl: Duration) {
        let entry = Entry {
            value,
            expires_at: self.clock.now().saturating_add(ttl),
            ttl,
        };
        self.entries.insert(key.to_owned(), entry).await;
    }

    pub(super) async fn remove(&self, key: &str) {
        self.entries.invalidate(key).await;
    }

    pub(super) fn clear(&self) {
        self.entries.invalidate_all();
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn lookup(&self, key: &str) -> Lookup {
        match self.get_entry(key).await {
            Some(entry) => {
                record("hit");
                Lookup::Hit(entry.value)
            }
            None => {
                record("miss");
                Lookup::Miss
            }
        }
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        self.put(key, value, ttl).await;
    }

    async fn delete(&self, key: &str) {
        self.remove(key).await;
    }
}
