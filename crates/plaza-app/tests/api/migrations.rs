//! Migrations: up → down → up on both databases, and the refusals that keep
//! a database and a binary from disagreeing.

use plaza_platform::db::migrate::MigrateError;
use plaza_platform::db::{Migration, Script, migrate};

use crate::helpers::TestApp;

async fn users_table_exists(app: &TestApp) -> bool {
    sqlx::query("SELECT COUNT(*) FROM users")
        .fetch_one(app.state.db.writer())
        .await
        .is_ok()
}

crate::on_both_databases! {
    async fn up_down_up_leaves_the_same_schema(backend: Backend) {
        let app = TestApp::on(backend).await;
        let all = plaza_app::MIGRATIONS;
        let now = app.state.clock.now();
        let status = migrate::status(&app.state.db, all).await.unwrap();
        assert_eq!(status.len(), all.len());
        assert!(status.iter().all(|m| m.applied_at.is_some() && m.problem.is_none()), "{status:?}");
        assert!(users_table_exists(&app).await);

        // Up again is a no-op.
        assert!(migrate::up(&app.state.db, all, now).await.unwrap().is_empty());

        let reverted = migrate::down(&app.state.db, all, all.len()).await.unwrap();
        let mut versions: Vec<i64> = all.iter().map(|m| m.version).collect();
        versions.reverse();
        assert_eq!(reverted, versions, "newest first");
        assert!(!users_table_exists(&app).await, "down removed the tables");
        assert!(migrate::status(&app.state.db, all).await.unwrap().iter().all(|m| m.applied_at.is_none()));

        let applied = migrate::up(&app.state.db, all, now).await.unwrap();
        assert_eq!(applied.len(), all.len());
        assert!(users_table_exists(&app).await);
    }
}

const PROBE: Migration = Migration {
    version: 29_991_231_000_000,
    name: "probe",
    up: Script {
        sqlite: "CREATE TABLE probe (id TEXT PRIMARY KEY)",
        postgres: "CREATE TABLE probe (id TEXT PRIMARY KEY)",
    },
    down: Script {
        sqlite: "DROP TABLE probe",
        postgres: "DROP TABLE probe",
    },
};

crate::on_both_databases! {
    async fn an_edited_or_unknown_migration_stops_the_run(backend: Backend) {
        let app = TestApp::on(backend).await;
        let now = app.state.clock.now();
        let mut with_probe = plaza_app::MIGRATIONS.to_vec();
        with_probe.push(PROBE);
        assert_eq!(migrate::up(&app.state.db, &with_probe, now).await.unwrap(), [PROBE.version]);

        // The database is ahead of a binary that lacks the probe.
        let err = migrate::up(&app.state.db, plaza_app::MIGRATIONS, now).await.unwrap_err();
        assert!(matches!(err, MigrateError::Unknown { version, .. } if version == PROBE.version), "{err}");
        let status = migrate::status(&app.state.db, plaza_app::MIGRATIONS).await.unwrap();
        assert_eq!(status.last().unwrap().problem.as_deref(), Some("not known to this binary"));

        // An applied migration whose SQL changed.
        let mut edited = with_probe.clone();
        let last = edited.len() - 1;
        edited[last].up = Script {
            sqlite: "CREATE TABLE probe (id TEXT PRIMARY KEY, extra TEXT)",
            postgres: "CREATE TABLE probe (id TEXT PRIMARY KEY, extra TEXT)",
        };
        let err = migrate::up(&app.state.db, &edited, now).await.unwrap_err();
        assert!(matches!(err, MigrateError::Edited { .. }), "{err}");

        // A failing migration leaves nothing half-applied.
        let mut broken = with_probe.clone();
        broken.push(Migration {
            version: 29_991_231_000_001,
            name: "broken",
            up: Script {
                sqlite: "CREATE TABLE half (id TEXT); CREATE TABLE nonsense (",
                postgres: "CREATE TABLE half (id TEXT); CREATE TABLE nonsense (",
            },
            down: Script { sqlite: "", postgres: "" },
        });
        let err = migrate::up(&app.state.db, &broken, now).await.unwrap_err();
        assert!(matches!(err, MigrateError::Failed { name: "broken", .. }), "{err}");
        let half = sqlx::query("SELECT COUNT(*) FROM half").fetch_one(app.state.db.writer()).await;
        assert!(half.is_err(), "the failed migration's first statement was rolled back");
        assert_eq!(migrate::down(&app.state.db, &with_probe, 1).await.unwrap(), [PROBE.version]);
    }
}
