//! Helpers for tests that need the real backing services. Tests that use
//! them are `#[ignore = "needs …"]`; `.ci/run` starts the services and runs
//! them. The addresses come from `TEST_REDIS_URL` and `TEST_POSTGRES_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::config::{Dsn, RedisConfig};
use crate::redis::Redis;

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A Redis connection whose keys and channels no other test shares.
pub async fn redis_for_test() -> Redis {
    let config = RedisConfig {
        url: None,
        pool_size: 2,
        key_prefix: format!("plaza-test:{}:", uuid::Uuid::now_v7().simple()),
    };
    Redis::connect(&Dsn::new(redis_url()), &config)
        .await
        .unwrap_or_else(|e| panic!("Redis is needed for this test: {e}"))
}

/// A PostgreSQL database of its own, dropped when this is dropped.
pub struct TestPostgres {
    pub url: String,
    name: String,
}

impl TestPostgres {
    pub async fn create() -> Self {
        use sqlx::Connection;
        let admin_url = postgres_url();
        let name = format!("plaza_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is needed for this test ({admin_url}): {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a thread of its own may block.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}
