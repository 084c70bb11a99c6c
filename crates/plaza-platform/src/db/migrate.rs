//! Embedded migrations, each with a down step, applied in version order.
//!
//! The product embeds its `migrations/` folder (see `plaza-app/build.rs`);
//! this runner records what it applied in `plaza_migrations` with a checksum,
//! refuses to run when an applied migration was edited or the database is
//! ahead of the binary, and holds a lock so two nodes starting together do
//! not both migrate.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::Connection;

use super::{Backend, Db};
use crate::Timestamp;

/// One SQL script, as run on each database.
#[derive(Clone, Copy, Debug)]
pub struct Script {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Script {
    pub fn for_backend(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// `YYYYMMDDHHMMSS` of its creation; migrations run in this order.
    pub version: i64,
    pub name: &'static str,
    pub up: Script,
    pub down: Script,
}

impl Migration {
    fn checksum(&self, backend: Backend) -> String {
        let digest = Sha256::digest(self.up.for_backend(backend).as_bytes());
        digest.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// Where one migration stands in a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationState {
    pub version: i64,
    pub name: String,
    pub applied_at: Option<Timestamp>,
    /// Edited since it was applied, or unknown to this binary.
    pub problem: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "migration {version} ({name}) was edited after it was applied; \
         add a new migration instead of changing an applied one"
    )]
    Edited { version: i64, name: String },
    #[error(
        "the database has migration {version} ({name}), which this binary does not know; \
         it was migrated by a newer plaza"
    )]
    Unknown { version: i64, name: String },
    #[error("migration {version} ({name}) failed: {source}")]
    Failed {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// An arbitrary constant naming plaza's migration lock on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x706c_617a_615f_6d67;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS plaza_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

struct Applied {
    version: i64,
    name: String,
    checksum: String,
    applied_at: Timestamp,
}

async fn applied(conn: &mut AnyConnection) -> Result<Vec<Applied>, sqlx::Error> {
    sqlx::query(CREATE_TABLE).execute(&mut *conn).await?;
    let rows: Vec<(i64, String, String, Timestamp)> = sqlx::query_as(
        "SELECT version, name, checksum, applied_at FROM plaza_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, name, checksum, applied_at)| Applied {
            version,
            name,
            checksum,
            applied_at,
        })
        .collect())
}

/// What can be wrong with an applied migration.
enum Problem {
    Edited,
    Unknown,
}

/// Compares an applied row with the binary's migrations.
fn problem(backend: Backend, migrations: &[Migration], a: &Applied) -> Option<Problem> {
    match migrations.iter().find(|m| m.version == a.version) {
        None => Some(Problem::Unknown),
        Some(m) if m.checksum(backend) != a.checksum => Some(Problem::Edited),
        Some(_) => None,
    }
}

/// Every migration the binary or the database knows, in version order.
pub async fn status(db: &Db, migrations: &[Migration]) -> Result<Vec<MigrationState>, sqlx::Error> {
    let mut conn = db.writer().acquire().await?;
    let applied = applied(&mut conn).await?;
    let mut out: Vec<MigrationState> = applied
        .iter()
        .map(|a| MigrationState {
            version: a.version,
            name: a.name.clone(),
            applied_at: Some(a.applied_at),
            problem: problem(db.backend(), migrations, a).map(|p| {
                match p {
                    Problem::Edited => "edited after it was applied",
                    Problem::Unknown => "not known to this binary",
                }
                .to_owned()
            }),
        })
        .collect();
    for m in migrations
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
    {
        out.push(MigrationState {
            version: m.version,
            name: m.name.to_owned(),
            applied_at: None,
            problem: None,
        });
    }
    out.sort_by_key(|s| s.version);
    Ok(out)
}

/// Applies every pending migration, each in its own transaction; returns
/// the versions applied.
pub async fn up(
    db: &Db,
    migrations: &[Migration],
    now: Timestamp,
) -> Result<Vec<i64>, MigrateError> {
    with_lock(db, async |conn| {
        let applied = applied(conn).await?;
        check(db.backend(), migrations, &applied)?;
        let mut done = Vec::new();
        let mut pending: Vec<&Migration> = migrations
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .collect();
        pending.sort_by_key(|m| m.version);
        for m in pending {
            run(conn, db.backend(), m, Direction::Up, now).await?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
            done.push(m.version);
        }
        Ok(done)
    })
    .await
}

/// Reverts the `steps` most recently applied migrations, newest first.
pub async fn down(
    db: &Db,
    migrations: &[Migration],
    steps: usize,
) -> Result<Vec<i64>, MigrateError> {
    with_lock(db, async |conn| {
        let applied = applied(conn).await?;
        check(db.backend(), migrations, &applied)?;
        let mut done = Vec::new();
        for a in applied.iter().rev().take(steps) {
            let m = migrations
                .iter()
                .find(|m| m.version == a.version)
                .ok_or_else(|| MigrateError::Unknown {
                    version: a.version,
                    name: a.name.clone(),
                })?;
            run(
                conn,
                db.backend(),
                m,
                Direction::Down,
                Timestamp::UNIX_EPOCH,
            )
            .await?;
            tracing::info!(version = m.version, name = m.name, "reverted migration");
            done.push(m.version);
        }
        Ok(done)
    })
    .await
}

fn check(
    backend: Backend,
    migrations: &[Migration],
    applied: &[Applied],
) -> Result<(), MigrateError> {
    for a in applied {
        let (version, name) = (a.version, a.name.clone());
        match problem(backend, migrations, a) {
            Some(Problem::Unknown) => return Err(MigrateError::Unknown { version, name }),
            Some(Problem::Edited) => return Err(MigrateError::Edited { version, name }),
            None => {}
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

async fn run(
    conn: &mut AnyConnection,
    backend: Backend,
    m: &Migration,
    direction: Direction,
    now: Timestamp,
) -> Result<(), MigrateError> {
    let failed = |source| MigrateError::Failed {
        version: m.version,
        name: m.name,
        source,
    };
    let mut tx = match backend {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => conn.begin().await?,
    };
    match direction {
        Direction::Up => {
            sqlx::raw_sql(m.up.for_backend(backend))
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
            sqlx::query(
                "INSERT INTO plaza_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum(backend))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        Direction::Down => {
            sqlx::raw_sql(m.down.for_backend(backend))
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
            sqlx::query("DELETE FROM plaza_migrations WHERE version = $1")
                .bind(m.version)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Runs `f` on one writer connection holding the migration lock: the single
/// writer on SQLite, an advisory lock on PostgreSQL.
async fn with_lock<T>(
    db: &Db,
    f: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    let mut conn = db.writer().acquire().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    let result = f(&mut conn).await;
    if db.backend() == Backend::Postgres {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await;
        if unlocked.is_err() {
            // The lock dies with the session; don't return this connection to the pool.
            conn.detach();
        }
    }
    result
}
