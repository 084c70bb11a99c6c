//! The database port: SQLite by default, PostgreSQL when the URL says so,
//! behind one set of portable SQL run through sqlx's `Any` driver.
//!
//! SQLite gets one writer connection and a pool of read-only connections
//! (WAL lets readers run beside the writer, and a single writer never fails
//! with `SQLITE_BUSY` on lock upgrade). PostgreSQL gets one pool, plus an
//! optional read replica.

pub mod migrate;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

use crate::config::{Config, Dsn, var_for_key};

pub use migrate::{Migration, MigrationState, Script};

/// Which engine is behind the pool, for the few places SQL must differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{key}: cannot create the directory {path}: {source}")]
    DataDir {
        key: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Pools for one database.
#[derive(Clone, Debug)]
pub struct Db {
    backend: Backend,
    write: AnyPool,
    read: AnyPool,
    /// Set by [`Db::watch`] while the database does not answer.
    down: Arc<AtomicBool>,
}

/// How often [`Db::watch`] asks, and how long it waits for the answer.
const WATCH_EVERY: Duration = Duration::from_secs(1);

impl Db {
    /// Opens the database the configuration names.
    pub async fn connect(config: &Config) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let url = config.database_url();
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let acquire = config.database.acquire_timeout.0;
        match url.scheme().as_str() {
            "sqlite" => {
                let readers = match config.database.max_connections {
                    0 => (cpus * 2).clamp(4, 16) as u32,
                    n => n,
                };
                Self::connect_sqlite(&url, config.database.url.is_none(), readers, acquire).await
            }
            _ => {
                let size = match config.database.max_connections {
                    0 => (cpus * 4).clamp(8, 32) as u32,
                    n => n,
                };
                let write = pg_pool(&url, size, acquire).await?;
                let read = match &config.database.read_url {
                    Some(replica) => pg_pool(replica, size, acquire).await?,
                    None => write.clone(),
                };
                Ok(Self {
                    backend: Backend::Postgres,
                    write,
                    read,
                    down: Arc::default(),
                })
            }
        }
    }

    async fn connect_sqlite(
        url: &Dsn,
        defaulted: bool,
        readers: u32,
        acquire: Duration,
    ) -> Result<Self, DbError> {
        let path = sqlite_path(url.expose());
        let in_memory = path.is_empty() || path.contains(":memory:");
        if !in_memory {
            let key = if defaulted {
                "data_dir"
            } else {
                "database.url"
            };
            create_parent(&path, key)?;
        }
        let connect_error = |source| DbError::Connect {
            target: url.masked(),
            source,
        };
        let writer_url = if in_memory {
            "sqlite::memory:".to_owned()
        } else {
            format!("sqlite://{path}?mode=rwc")
        };
        let write = sqlite_pool(1, acquire, WRITER_PRAGMAS)
            .connect_with(any_options(&writer_url)?)
            .await
            .map_err(connect_error)?;
        // An in-memory database exists only on its one connection.
        let read = if in_memory {
            write.clone()
        } else {
            sqlite_pool(readers, acquire, READER_PRAGMAS)
                .connect_with(any_options(&format!("sqlite://{path}?mode=ro"))?)
                .await
                .map_err(connect_error)?
        };
        Ok(Self {
            backend: Backend::Sqlite,
            write,
            read,
            down: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for writes and for reads that must see the latest writes.
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// The pool for reads that may lag a little (a replica on PostgreSQL).
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for reads that must see every committed write without
    /// taking the writer: the primary on PostgreSQL; on SQLite the readers,
    /// which share the file (and its WAL) with the single writer.
    pub fn fresh(&self) -> &AnyPool {
        match self.backend {
            Backend::Sqlite => &self.read,
            Backend::Postgres => &self.write,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it never fails half-way on a lock upgrade.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// Checks that both pools answer.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.write).await?;
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Whether the database stopped answering (as [`Db::watch`] last saw):
    /// requests are then answered 503 at once instead of each waiting for a
    /// connection that will not come.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// Pings the database every second until `stop` resolves, keeping
    /// [`Db::is_down`] up to date (a ping that takes over a second counts as
    /// down). One `SELECT 1` per pool per second is the whole cost.
    pub fn watch(&self, stop: impl Future<Output = ()> + Send + 'static) {
        let db = self.clone();
        tokio::spawn(async move {
            tokio::pin!(stop);
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = &mut stop => return,
                }
                let answered = tokio::time::timeout(WATCH_EVERY, db.ping()).await;
                let down = !matches!(answered, Ok(Ok(())));
                if db.down.swap(down, Ordering::Relaxed) != down {
                    match (down, answered) {
                        (true, Ok(Err(e))) => {
                            tracing::error!(error = %e, "the database stopped answering; requests get 503 until it is back")
                        }
                        (true, _) => tracing::error!(
                            "the database stopped answering within 1 s; requests get 503 until it is back"
                        ),
                        (false, _) => tracing::info!("the database answers again"),
                    }
                    metrics::gauge!("plaza_database_down").set(if down { 1.0 } else { 0.0 });
                }
            }
        });
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

async fn pg_pool(url: &Dsn, size: u32, acquire: Duration) -> Result<AnyPool, DbError> {
    AnyPoolOptions::new()
        .max_connections(size)
        .min_connections(1)
        .acquire_timeout(acquire)
        .connect_with(any_options(url.expose())?)
        .await
        .map_err(|source| DbError::Connect {
            target: url.masked(),
            source,
        })
}

fn any_options(url: &str) -> Result<AnyConnectOptions, DbError> {
    AnyConnectOptions::from_str(url).map_err(|source| DbError::Connect {
        target: Dsn::new(url).masked(),
        source,
    })
}

/// The file path inside `sqlite://path?params`, `sqlite:path` or `sqlite::memory:`.
fn sqlite_path(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or_default().to_owned()
}

/// `count` numbered placeholders from `$first` on, comma-separated, for an
/// `IN (…)` list whose values are then bound in order.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an error is a unique-constraint violation, and on what: the
/// constraint or index name (PostgreSQL), or SQLite's `table.column` list —
/// `index 'name'` for an expression index. Match on the index name.
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if db.kind() != sqlx::error::ErrorKind::UniqueViolation {
        return None;
    }
    Some(match db.constraint() {
        Some(c) => c.to_owned(),
        None => db
            .message()
            .rsplit_once("constraint failed: ")
            .map_or_else(|| db.message().to_owned(), |(_, cols)| cols.to_owned()),
    })
}

/// Every SQLite writer connection: WAL, foreign keys, a busy wait, and the
/// planner's statistics kept fresh.
const WRITER_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
     PRAGMA temp_store = MEMORY; \
     PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;";

/// Every SQLite reader connection.
const READER_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY;";

/// A pool of `size` SQLite connections that each run `pragmas` first.
fn sqlite_pool(size: u32, acquire: Duration, pragmas: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(pragmas).await?;
                Ok(())
            })
        })
}

/// Makes the folder a database file lives in, naming `key` if it cannot.
fn create_parent(path: &str, key: &str) -> Result<(), DbError> {
    let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir {
        key: var_for_key(key),
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://./data/plaza.db?mode=rwc"),
            "./data/plaza.db"
        );
        assert_eq!(sqlite_path("sqlite:///abs/p.db"), "/abs/p.db");
        assert_eq!(sqlite_path("sqlite:rel.db"), "rel.db");
        assert_eq!(sqlite_path("sqlite::memory:"), ":memory:");
    }
}
