//! The job queue's store on both databases: transactional enqueue,
//! priorities and run times, uniqueness, backoff to the dead state, leases.

use std::time::Duration;

use plaza_app::jobs::store::{self, NewJob, Priority, Purge};
use plaza_core::JobId;
use plaza_core::{Clock, Timestamp};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

fn job(app: &TestApp, kind: &str, priority: Priority) -> NewJob {
    NewJob {
        queue: "test".into(),
        kind: kind.into(),
        payload: json!({"kind": kind}),
        priority,
        max_attempts: 3,
        run_at: app.clock.now(),
        unique_key: None,
        unique_until: None,
    }
}

fn later(app: &TestApp, secs: u64) -> Timestamp {
    app.clock.now().saturating_add(Duration::from_secs(secs))
}

async fn claim(app: &TestApp, worker: &str) -> Option<store::Job> {
    let mut conn = app.state.db.writer().acquire().await.unwrap();
    store::claim(
        &mut conn,
        app.state.db.backend(),
        "test",
        worker,
        later(app, 30),
        app.clock.now(),
    )
    .await
    .unwrap()
}

crate::on_both_databases! {
    async fn a_job_exists_only_if_its_transaction_commits(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut tx = app.state.db.begin().await.unwrap();
        let (gone, _) = store::enqueue(&mut tx, &job(&app, "gone", Priority::Normal), app.clock.now()).await.unwrap();
        tx.rollback().await.unwrap();
        let mut tx = app.state.db.begin().await.unwrap();
        let (kept, created) = store::enqueue(&mut tx, &job(&app, "kept", Priority::Normal), app.clock.now()).await.unwrap();
        tx.commit().await.unwrap();
        assert!(created);
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        assert!(store::find(&mut conn, gone.id).await.unwrap().is_none());
        drop(conn);
        let claimed = claim(&app, "w1").await.unwrap();
        assert_eq!((claimed.id, claimed.state.as_str(), claimed.attempts), (kept.id, "active", 1));
        assert!(claim(&app, "w1").await.is_none());
    }
}

crate::on_both_databases! {
    async fn high_priority_is_claimed_first_and_future_jobs_wait(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        let now = app.clock.now();
        let mut future = job(&app, "future", Priority::High);
        future.run_at = later(&app, 60);
        for new in [job(&app, "low", Priority::Low), job(&app, "normal", Priority::Normal), future, job(&app, "high", Priority::High)] {
            store::enqueue(&mut conn, &new, now).await.unwrap();
        }
        drop(conn);
        let mut order = Vec::new();
        while let Some(j) = claim(&app, "w").await {
            order.push(j.kind);
        }
        assert_eq!(order, ["high", "normal", "low"]);
        app.clock.advance(Duration::from_secs(61));
        assert_eq!(claim(&app, "w").await.unwrap().kind, "future");
    }
}

crate::on_both_databases! {
    async fn a_unique_key_holds_under_concurrent_enqueues_and_for_its_window(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut unique = job(&app, "rollup", Priority::Normal);
        unique.unique_key = Some("2026-11-23".into());
        unique.unique_until = Some(later(&app, 3600));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (state, new, now) = (app.state.clone(), unique.clone(), app.clock.now());
            tasks.push(tokio::spawn(async move {
                let mut conn = state.db.writer().acquire().await.unwrap();
                store::enqueue(&mut conn, &new, now).await.unwrap()
            }));
        }
        let mut ids = Vec::new();
        let mut created = 0;
        for t in tasks {
            let (j, new) = t.await.unwrap();
            ids.push(j.id);
            created += usize::from(new);
        }
        ids.dedup();
        assert_eq!((ids.len(), created), (1, 1));
        // Done, but still inside its window: the same job answers.
        let j = claim(&app, "w").await.unwrap();
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        assert!(store::complete(&mut conn, j.id, "w", app.clock.now(), Purge::Keep).await.unwrap());
        let (again, new) = store::enqueue(&mut conn, &unique, app.clock.now()).await.unwrap();
        assert_eq!((again.id, again.state.as_str(), new), (ids[0], "completed", false));
        // After the window a new one is made.
        app.clock.advance(Duration::from_secs(3601));
        let (fresh, new) = store::enqueue(&mut conn, &unique, app.clock.now()).await.unwrap();
        assert!(new);
        assert_ne!(fresh.id, ids[0]);
    }
}

crate::on_both_databases! {
    async fn failures_wait_their_backoff_and_the_last_one_is_dead(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        let (j, _) = store::enqueue(&mut conn, &job(&app, "flaky", Priority::Normal), app.clock.now()).await.unwrap();
        drop(conn);
        for attempt in 1..=3 {
            let claimed = claim(&app, "w").await.expect("due");
            assert_eq!(claimed.attempts, attempt);
            let retry = later(&app, 10);
            let mut conn = app.state.db.writer().acquire().await.unwrap();
            assert!(store::fail(&mut conn, j.id, "w", "boom", Some(retry), app.clock.now(), Purge::Keep).await.unwrap());
            let now = store::find(&mut conn, j.id).await.unwrap().unwrap();
            drop(conn);
            if attempt < 3 {
                assert_eq!(now.state, "waiting");
                assert!(claim(&app, "w").await.is_none(), "not before its backoff");
                app.clock.advance(Duration::from_secs(11));
            } else {
                assert_eq!((now.state.as_str(), now.last_error.as_deref()), ("dead", Some("boom")));
                app.clock.advance(Duration::from_secs(11));
                assert!(claim(&app, "w").await.is_none(), "the dead stay dead");
            }
        }
    }
}

crate::on_both_databases! {
    async fn a_dead_workers_job_is_reclaimed_after_its_lease_and_run_again(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        store::enqueue(&mut conn, &job(&app, "long", Priority::Normal), app.clock.now()).await.unwrap();
        drop(conn);
        let first = claim(&app, "dies").await.unwrap();
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        assert_eq!(store::reclaim(&mut conn, app.clock.now()).await.unwrap(), 0, "the lease still runs");
        assert!(store::extend(&mut conn, first.id, "dies", later(&app, 40)).await.unwrap());
        app.clock.advance(Duration::from_secs(41));
        assert_eq!(store::reclaim(&mut conn, app.clock.now()).await.unwrap(), 1);
        drop(conn);
        let second = claim(&app, "lives").await.unwrap();
        assert_eq!((second.id, second.attempts), (first.id, 2));
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        assert!(!store::complete(&mut conn, first.id, "dies", app.clock.now(), Purge::Keep).await.unwrap(), "the old worker lost it");
        assert!(store::complete(&mut conn, first.id, "lives", app.clock.now(), Purge::Keep).await.unwrap());
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn concurrent_workers_on_postgres_never_claim_the_same_job() {
    let app = TestApp::on(Backend::Postgres).await;
    let mut conn = app.state.db.writer().acquire().await.unwrap();
    for n in 0..60 {
        store::enqueue(
            &mut conn,
            &job(&app, &format!("j{n}"), Priority::Normal),
            app.clock.now(),
        )
        .await
        .unwrap();
    }
    drop(conn);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (state, now, lease) = (app.state.clone(), app.clock.now(), later(&app, 30));
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let mut conn = state.db.writer().acquire().await.unwrap();
                let got = store::claim(
                    &mut conn,
                    state.db.backend(),
                    "test",
                    &format!("w{w}"),
                    lease,
                    now,
                )
                .await
                .unwrap();
                match got {
                    Some(j) => mine.push(j.id),
                    None => return mine,
                }
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (60, 60));
}

/// Runs per tag, for the test job below.
static RUNS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn runs_of(tag: &str) -> usize {
    RUNS.lock().unwrap().iter().filter(|t| *t == tag).count()
}

/// Fails its first `fail_times` runs, sleeping `sleep_ms` each time.
#[derive(serde::Serialize, serde::Deserialize)]
struct Probe {
    tag: String,
    fail_times: usize,
    sleep_ms: u64,
}

#[async_trait::async_trait]
impl plaza_app::jobs::JobKind for Probe {
    type Context = plaza_app::AppState;
    const KIND: &'static str = "test.probe";
    const QUEUE: &'static str = "probe";
    const MAX_ATTEMPTS: u32 = 3;
    const BACKOFF: Duration = Duration::from_secs(10);

    async fn run(&self, _: &plaza_app::AppState) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
        RUNS.lock().unwrap().push(self.tag.clone());
        anyhow::ensure!(runs_of(&self.tag) > self.fail_times, "not yet");
        Ok(())
    }
}

async fn probe(app: &TestApp, tag: &str, fail_times: usize, sleep_ms: u64) -> JobId {
    let mut conn = app.state.db.writer().acquire().await.unwrap();
    let job = Probe {
        tag: tag.into(),
        fail_times,
        sleep_ms,
    };
    let (j, _) = plaza_app::jobs::enqueue(&mut conn, &job, app.clock.now())
        .await
        .unwrap();
    app.state.workers.wake();
    j.id
}

async fn state_of(app: &TestApp, id: JobId) -> store::Job {
    let mut conn = app.state.db.writer().acquire().await.unwrap();
    store::find(&mut conn, id).await.unwrap().unwrap()
}

async fn until_state(app: &TestApp, id: JobId, want: &str) -> store::Job {
    for _ in 0..200 {
        let j = state_of(app, id).await;
        if j.state == want {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "job {id} never became {want}: {:?}",
        state_of(app, id).await
    );
}

fn workers(app: &TestApp) {
    let mut registry = plaza_app::jobs::Registry::new();
    registry.register::<Probe>();
    plaza_platform::jobs::spawn(&app.state, registry, &[("probe", 2)]);
}

crate::on_both_databases! {
    async fn workers_run_a_job_at_once_and_retry_a_failing_one_after_its_backoff(backend: Backend) {
        let app = TestApp::on(backend).await;
        workers(&app);
        let tag = format!("ok-{backend:?}");
        let id = probe(&app, &tag, 0, 0).await;
        let done = until_state(&app, id, "completed").await;
        assert_eq!((done.attempts, runs_of(&tag)), (1, 1));
        let metrics = app.get("/metrics").await.text().await.unwrap();
        for name in ["plaza_job_wait_seconds", "plaza_job_run_seconds"] {
            assert!(metrics.contains(&format!("{name}_count{{queue=\"probe\"}}")), "{name} in {metrics}");
        }

        let tag = format!("flaky-{backend:?}");
        let id = probe(&app, &tag, 2, 0).await;
        for run in 1..=2 {
            while runs_of(&tag) < run {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let waiting = until_state(&app, id, "waiting").await;
            assert_eq!(waiting.last_error.as_deref(), Some("not yet"));
            // Not before the backoff (5–15 s, doubling)…
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(runs_of(&tag), run);
            // …then again.
            app.clock.advance(Duration::from_secs(60));
            app.state.workers.wake();
        }
        let done = until_state(&app, id, "completed").await;
        assert_eq!((done.attempts, runs_of(&tag)), (3, 3));
    }
}

#[tokio::test]
async fn a_job_that_keeps_failing_ends_dead_with_its_error() {
    let app = TestApp::spawn().await;
    workers(&app);
    let id = probe(&app, "doomed", 99, 0).await;
    for _ in 0..2 {
        until_state(&app, id, "waiting").await;
        while state_of(&app, id).await.attempts == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        app.clock.advance(Duration::from_secs(60));
        app.state.workers.wake();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dead = until_state(&app, id, "dead").await;
    assert_eq!(
        (dead.attempts, dead.last_error.as_deref()),
        (3, Some("not yet"))
    );
}

#[tokio::test]
async fn shutdown_lets_a_running_job_finish_and_claims_nothing_more() {
    let app = TestApp::spawn().await;
    workers(&app);
    let running = probe(&app, "slow", 0, 400).await;
    until_state(&app, running, "active").await;
    app.stop();
    let left = probe(&app, "left", 0, 0).await;
    until_state(&app, running, "completed").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(state_of(&app, left).await.state, "waiting");
}

crate::on_both_databases! {
    async fn the_dashboard_counts_jobs_per_queue_in_seed_003s_shape(backend: Backend) {
        // No workers, so the counts stay as made here.
        let app = TestApp::builder().backend(backend).config(|c| c.jobs.run = false).spawn().await;
        let admin_email = "admin@example.com";
        app.register(admin_email).await;
        let admin = app.make_admin(admin_email).await;
        let user = app.register("ana@example.com").await;

        let mut conn = app.state.db.writer().acquire().await.unwrap();
        let now = app.clock.now();
        let on = |queue: &str, kind: &str| {
            let mut j = job(&app, kind, Priority::Normal);
            j.queue = queue.into();
            j
        };
        for new in [on("email", "a"), on("email", "b"), on("ai", "c")] {
            store::enqueue(&mut conn, &new, now).await.unwrap();
        }
        let mut later_one = on("email", "later");
        later_one.run_at = later(&app, 600);
        store::enqueue(&mut conn, &later_one, now).await.unwrap();
        store::enqueue(&mut conn, &on("reports", "custom"), now).await.unwrap();
        // One email job runs and fails once (a retry is due later).
        let claimed = store::claim(&mut conn, app.state.db.backend(), "email", "w", later(&app, 30), now).await.unwrap().unwrap();
        store::fail(&mut conn, claimed.id, "w", "smtp down", Some(later(&app, 60)), now, Purge::Keep).await.unwrap();
        let running = store::claim(&mut conn, app.state.db.backend(), "ai", "w", later(&app, 30), now).await.unwrap().unwrap();
        drop(conn);
        assert_eq!(running.kind, "c");

        let res = app.get_as("/api/admin/queues", &admin.access).await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        let zero = json!({"waiting": 0, "active": 0, "completed": 0, "failed": 0, "delayed": 0, "dead": 0});
        // Beside these, each sign-up queued its verification mail.
        assert_eq!(body["Email"], json!({"waiting": 3, "active": 0, "completed": 0, "failed": 1, "delayed": 1, "dead": 0}));
        assert_eq!(body["AI"], json!({"waiting": 0, "active": 1, "completed": 0, "failed": 0, "delayed": 0, "dead": 0}));
        assert_eq!(body["Analytics"], zero);
        // Each sign-up queued its welcome.
        assert_eq!(body["Notifications"]["waiting"], 2);
        assert_eq!(body["Reports"]["waiting"], 1);

        crate::helpers::error_body(app.get_as("/api/admin/queues", &user.access).await, 403, "forbidden").await;
        assert_eq!(app.get("/api/admin/queues").await.status(), 401);
    }
}

crate::on_both_databases! {
    async fn a_schedule_fires_once_per_slot_on_the_settable_clock_however_many_nodes_run_it(backend: Backend) {
        let app = TestApp::on(backend).await;
        let make = || {
            let mut cron = plaza_app::jobs::cron::Cron::new();
            let job = Probe { tag: format!("cron-{backend:?}"), fail_times: 0, sleep_ms: 0 };
            cron.add("every-minute", "* * * * *", &job).unwrap();
            cron
        };
        // Two schedulers on one database act as two nodes.
        plaza_app::jobs::cron::spawn(&app.state, make());
        plaza_app::jobs::cron::spawn(&app.state, make());
        let count = |app: &TestApp| {
            let pool = app.state.db.writer().clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE kind = 'test.probe'")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                n
            }
        };
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(count(&app).await, 0, "nothing before the next minute");
        for expected in 1..=2 {
            app.clock.advance(Duration::from_secs(60));
            let mut n = 0;
            for _ in 0..60 {
                n = count(&app).await;
                if n >= expected {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(Duration::from_millis(1200)).await;
            assert_eq!((n, count(&app).await), (expected, expected));
        }
    }
}

#[test]
fn a_bad_cron_expression_is_refused_naming_the_schedule() {
    let mut cron = plaza_app::jobs::cron::Cron::new();
    let job = Probe {
        tag: "x".into(),
        fail_times: 0,
        sleep_ms: 0,
    };
    let err = cron
        .add("nightly", "61 * * * *", &job)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("nightly"), "{err}");
}

crate::on_both_databases! {
    async fn admins_list_inspect_retry_cancel_and_delete_jobs(backend: Backend) {
        let app = TestApp::on(backend).await;
        app.register("admin@example.com").await;
        let admin = app.make_admin("admin@example.com").await;
        let user = app.register("ana@example.com").await;
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        let now = app.clock.now();
        let (dead, _) = store::enqueue(&mut conn, &job(&app, "dead", Priority::High), now).await.unwrap();
        let claimed = store::claim(&mut conn, app.state.db.backend(), "test", "w", later(&app, 30), now).await.unwrap().unwrap();
        assert_eq!(claimed.id, dead.id);
        store::fail(&mut conn, dead.id, "w", "gave up", None, now, Purge::Keep).await.unwrap();
        let (waiting, _) = store::enqueue(&mut conn, &job(&app, "waiting", Priority::Low), now).await.unwrap();
        let (running, _) = store::enqueue(&mut conn, &job(&app, "running", Priority::Normal), now).await.unwrap();
        store::claim(&mut conn, app.state.db.backend(), "test", "w", later(&app, 30), now).await.unwrap().unwrap();
        drop(conn);

        let list: serde_json::Value = app.get_as("/api/admin/queues/test/jobs", &admin.access).await.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 3);
        let list: serde_json::Value = app.get_as("/api/admin/queues/test/jobs?state=dead", &admin.access).await.json().await.unwrap();
        assert_eq!(list["items"][0]["id"], json!(dead.id));
        assert_eq!((list["items"][0]["last_error"].clone(), list["items"][0]["priority"].clone()), (json!("gave up"), json!("high")));
        crate::helpers::error_body(app.get_as("/api/admin/queues/test/jobs?state=lost", &admin.access).await, 422, "validation_error").await;
        crate::helpers::error_body(app.get_as("/api/admin/queues/test/jobs?limit=0", &admin.access).await, 422, "validation_error").await;

        let one: serde_json::Value = app.get_as(&format!("/api/admin/jobs/{}", waiting.id), &admin.access).await.json().await.unwrap();
        assert_eq!((one["state"].clone(), one["payload"]["kind"].clone()), (json!("waiting"), json!("waiting")));
        crate::helpers::error_body(app.get_as("/api/admin/jobs/nope", &admin.access).await, 404, "not_found").await;

        let post = |path: String| {
            let token = admin.access.clone();
            let app = &app;
            async move { app.post_as(&path, &token, &json!({})).await }
        };
        // Retry: the dead waits again from scratch; a waiting one cannot be retried.
        let res = post(format!("/api/admin/jobs/{}/retry", dead.id)).await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!((body["state"].clone(), body["attempts"].clone()), (json!("waiting"), json!(0)));
        crate::helpers::error_body(post(format!("/api/admin/jobs/{}/retry", waiting.id)).await, 409, "conflict").await;
        // Cancel: the waiting one; not the running one.
        let res = post(format!("/api/admin/jobs/{}/cancel", waiting.id)).await;
        assert_eq!(res.status(), 200);
        crate::helpers::error_body(post(format!("/api/admin/jobs/{}/cancel", running.id)).await, 409, "conflict").await;
        // Delete: not while running; a cancelled one goes.
        let delete = |id: JobId| {
            let token = admin.access.clone();
            let app = &app;
            async move {
                app.send(reqwest::Method::DELETE, &format!("/api/admin/jobs/{id}"), Some(&token), None)
                    .await
            }
        };
        crate::helpers::error_body(delete(running.id).await, 409, "conflict").await;
        assert_eq!(delete(waiting.id).await.status(), 204);
        crate::helpers::error_body(delete(waiting.id).await, 404, "not_found").await;

        crate::helpers::error_body(app.get_as("/api/admin/queues/test/jobs", &user.access).await, 403, "forbidden").await;
        crate::helpers::error_body(app.post_as(&format!("/api/admin/jobs/{}/retry", dead.id), &user.access, &json!({})).await, 403, "forbidden").await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis"]
async fn a_job_added_on_one_node_is_run_by_anothers_workers() {
    let one = TestApp::builder().scaled_out().spawn().await;
    let two = TestApp::builder().node_of(&one).spawn().await;
    workers(&two);
    let mut conn = one.state.db.writer().acquire().await.unwrap();
    let job = Probe {
        tag: "across".into(),
        fail_times: 0,
        sleep_ms: 0,
    };
    let (j, _) = plaza_app::jobs::enqueue(&mut conn, &job, one.clock.now())
        .await
        .unwrap();
    drop(conn);
    one.state.workers.added(&one.state.bus).await;
    until_state(&one, j.id, "completed").await;
    assert_eq!(runs_of("across"), 1);
}

crate::on_both_databases! {
    async fn finished_jobs_are_pruned_after_a_week_and_dead_ones_kept(backend: Backend) {
        let app = TestApp::builder().backend(backend).config(|c| c.jobs.run = false).spawn().await;
        let mut conn = app.state.db.writer().acquire().await.unwrap();
        let now = app.clock.now();
        let mut ids = Vec::new();
        for kind in ["old", "recent", "dead"] {
            let (j, _) = store::enqueue(&mut conn, &job(&app, kind, Priority::Normal), now).await.unwrap();
            let claimed = store::claim(&mut conn, app.state.db.backend(), "test", "w", later(&app, 30), now).await.unwrap().unwrap();
            assert_eq!(claimed.id, j.id);
            if kind == "dead" {
                store::fail(&mut conn, j.id, "w", "gave up", None, now, Purge::Keep).await.unwrap();
            } else {
                store::complete(&mut conn, j.id, "w", now, Purge::Keep).await.unwrap();
            }
            ids.push(j.id);
        }
        // "recent" finished six days ago; the others eight.
        app.clock.advance(Duration::from_secs(8 * 24 * 3600));
        sqlx::query("UPDATE jobs SET finished_at = $1 WHERE id = $2")
            .bind(app.clock.now().saturating_sub(Duration::from_secs(6 * 24 * 3600)))
            .bind(ids[1])
            .execute(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        plaza_app::jobs::JobKind::run(&plaza_app::jobs::PruneJobs {}, &app.state.platform).await.unwrap();
        let left: Vec<String> = sqlx::query_scalar("SELECT kind FROM jobs WHERE queue = 'test' ORDER BY kind")
            .fetch_all(app.state.db.writer())
            .await
            .unwrap();
        assert_eq!(left, ["dead", "recent"]);
    }
}

/// A kind whose jobs each say how urgent they are.
#[derive(serde::Serialize, serde::Deserialize)]
struct Ask {
    urgent: bool,
}

#[async_trait::async_trait]
impl plaza_platform::jobs::JobKind for Ask {
    type Context = plaza_app::AppState;
    const KIND: &'static str = "test.ask";
    const QUEUE: &'static str = "test";
    fn priority(&self) -> Priority {
        if self.urgent {
            Priority::High
        } else {
            Priority::Low
        }
    }
    async fn run(&self, _: &plaza_app::AppState) -> anyhow::Result<()> {
        Ok(())
    }
}

crate::on_both_databases! {
    async fn a_job_may_carry_its_own_priority_and_overtakes_queued_low_ones(backend: Backend) {
        let app = TestApp::on(backend).await;
        let mut work = app.state.work().await.unwrap();
        for urgent in [false, false, true, false] {
            work.enqueue(&Ask { urgent }).await.unwrap();
        }
        work.commit().await.unwrap();
        let first = claim(&app, "w1").await.unwrap();
        let payload: serde_json::Value = serde_json::from_str(&first.payload).unwrap();
        assert_eq!((first.priority, payload["urgent"].as_bool()), (Priority::High as i64, Some(true)));
        let next = claim(&app, "w1").await.unwrap();
        assert_eq!(next.priority, Priority::Low as i64);
    }
}
