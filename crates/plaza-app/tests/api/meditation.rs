//! Meditation sessions (seed 000): start, end, history, one active at a time.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};

async fn start(app: &TestApp, who: &Tokens, body: Value) -> reqwest::Response {
    app.post_as("/api/meditation/start", &who.access, &body)
        .await
}

async fn end(app: &TestApp, who: &Tokens, body: Value) -> reqwest::Response {
    app.post_as("/api/meditation/end", &who.access, &body).await
}

crate::on_both_databases! {
    async fn a_session_is_started_ended_and_listed_with_its_server_measured_duration(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let res = start(&app, &ana, json!({"type": "breathing", "planned_duration_sec": 600})).await;
        assert_eq!(res.status(), 201);
        let started: Value = res.json().await.unwrap();
        let session = &started["session"];
        assert_eq!((session["type"].as_str(), session["planned_duration_sec"].as_i64()), (Some("breathing"), Some(600)));
        assert_eq!(session["ended_at"], Value::Null);

        // A second start answers 409 with the active session.
        let err = error_body(start(&app, &ana, json!({})).await, 409, "conflict").await;
        assert_eq!(err["details"]["session"]["id"], session["id"]);

        app.clock.advance(Duration::from_secs(754));
        let res = end(&app, &ana, json!({"mood_before": 2, "mood_after": 4, "notes": "  calm  "})).await;
        assert_eq!(res.status(), 200);
        let ended: Value = res.json().await.unwrap();
        assert_eq!(ended["session"]["duration_sec"], 754);
        assert_eq!((ended["session"]["mood_after"].as_i64(), ended["session"]["notes"].as_str()), (Some(4), Some("calm")));
        error_body(end(&app, &ana, json!({})).await, 409, "conflict").await;
        let again = json!({"session_id": session["id"]});
        error_body(end(&app, &ana, again).await, 409, "conflict").await;

        // Left open for a day: counted as the four-hour maximum.
        assert_eq!(start(&app, &ana, json!({"type": "sleep"})).await.status(), 201);
        app.clock.advance(Duration::from_secs(24 * 3600));
        // A day later: a fresh sign-in (access tokens last 15 minutes).
        let ana = app.login("ana@example.com").await;
        let long: Value = end(&app, &ana, json!({})).await.json().await.unwrap();
        assert_eq!(long["session"]["duration_sec"], 4 * 3600);

        let page: Value = app.get_as("/api/sessions?limit=1", &ana.access).await.json().await.unwrap();
        assert_eq!((page["total"].as_i64(), page["page"].as_i64(), page["limit"].as_i64(), page["has_more"].as_bool()), (Some(2), Some(1), Some(1), Some(true)));
        assert_eq!(page["items"][0]["type"], "sleep", "newest first");
        let page: Value = app.get_as("/api/sessions?limit=1&page=2", &ana.access).await.json().await.unwrap();
        assert_eq!((page["items"][0]["type"].as_str(), page["has_more"].as_bool()), (Some("breathing"), Some(false)));
        let page: Value = app.get_as("/api/sessions?type=sleep", &ana.access).await.json().await.unwrap();
        assert_eq!(page["total"], 1);
        // Time bounds: from is inclusive, to exclusive.
        let sleep_at = long["session"]["started_at"].as_str().unwrap().to_owned();
        let query = format!("/api/sessions?from={}", sleep_at.replace('+', "%2B"));
        let page: Value = app.get_as(&query, &ana.access).await.json().await.unwrap();
        assert_eq!(page["total"], 1, "{page}");
        let query = format!("/api/sessions?to={}", sleep_at.replace('+', "%2B"));
        let page: Value = app.get_as(&query, &ana.access).await.json().await.unwrap();
        assert_eq!(page["items"][0]["type"], "breathing", "{page}");
        // Dates are whole days in my time zone, both ends included.
        let date = |at: &str| at.parse::<jiff::Timestamp>().unwrap().to_zoned(jiff::tz::TimeZone::UTC).date();
        let first = date(session["started_at"].as_str().unwrap());
        let query = format!("/api/sessions?from={first}&to={}", date(&sleep_at));
        let page: Value = app.get_as(&query, &ana.access).await.json().await.unwrap();
        assert_eq!(page["total"], 2, "{page}");
    }
}

#[tokio::test]
async fn wrong_input_to_meditation_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    assert_eq!(
        app.post_json("/api/meditation/start", &json!({}))
            .await
            .status(),
        401
    );
    for (body, field) in [
        (json!({"type": "yoga"}), "type"),
        (json!({"planned_duration_sec": -5}), "planned_duration_sec"),
        (json!({"planned_duration_sec": 0}), "planned_duration_sec"),
        (json!({"room_id": "nope"}), "room_id"),
    ] {
        let err = error_body(
            start(&app, &ana, body.clone()).await,
            422,
            "validation_error",
        )
        .await;
        assert!(err["details"]["fields"][field].is_string(), "{body}: {err}");
    }
    error_body(end(&app, &ana, json!({})).await, 409, "conflict").await;
    let bobs: Value = start(&app, &bob, json!({})).await.json().await.unwrap();
    let bobs_id = bobs["session"]["id"].clone();
    assert_eq!(start(&app, &ana, json!({})).await.status(), 201);
    for (body, field) in [
        (json!({"mood_after": 9}), "mood_after"),
        (json!({"mood_before": 0}), "mood_before"),
        (json!({"notes": "x".repeat(2001)}), "notes"),
    ] {
        let err = error_body(end(&app, &ana, body.clone()).await, 422, "validation_error").await;
        assert!(err["details"]["fields"][field].is_string(), "{body}: {err}");
    }
    error_body(
        end(&app, &ana, json!({"session_id": bobs_id})).await,
        404,
        "not_found",
    )
    .await;
    // Bob's session is untouched, Ana's still open.
    assert_eq!(end(&app, &bob, json!({})).await.status(), 200);
    assert_eq!(end(&app, &ana, json!({})).await.status(), 200);
    for query in [
        "page=0",
        "limit=0",
        "limit=500",
        "type=yoga",
        "from=yesterday",
        "from=2026-11-02&to=2026-11-01",
        "colour=red",
    ] {
        error_body(
            app.get_as(&format!("/api/sessions?{query}"), &ana.access)
                .await,
            422,
            "validation_error",
        )
        .await;
    }
}

crate::on_both_databases! {
    async fn concurrent_starts_make_exactly_one_session(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let attempts = (0..8).map(|_| start(&app, &ana, json!({})));
        let statuses: Vec<u16> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
        let page: Value = app.get_as("/api/sessions", &ana.access).await.json().await.unwrap();
        assert_eq!(page["total"], 1);
    }
}

/// Ana's ten-minute session starting at `at` (UTC), signed in afresh.
async fn session_at(app: &TestApp, at: &str, kind: &str) {
    session_of(app, "ana@example.com", at, kind).await;
}

/// A ten-minute session of `email` starting at `at` (UTC).
async fn session_of(app: &TestApp, email: &str, at: &str, kind: &str) {
    app.clock
        .set(plaza_core::Timestamp::from_jiff(at.parse().unwrap()));
    let ana = app.login(email).await;
    assert_eq!(start(app, &ana, json!({"type": kind})).await.status(), 201);
    app.clock.advance(Duration::from_secs(600));
    assert_eq!(
        end(app, &ana, json!({"mood_before": 2, "mood_after": 4}))
            .await
            .status(),
        200
    );
}

crate::on_both_databases! {
    async fn stats_count_streaks_in_my_time_zone_across_a_clock_change_and_are_cached(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let res = app.send(reqwest::Method::PUT, "/api/user/profile", Some(&ana.access), Some(&json!({"timezone": "America/New_York"}))).await;
        assert_eq!(res.status(), 200);
        let empty: Value = app.get_as("/api/user/stats", &ana.access).await.json().await.unwrap();
        assert_eq!((empty["total_sessions"].as_i64(), empty["current_streak_days"].as_i64(), empty["last_session"].is_null()), (Some(0), Some(0), true));

        // New York leaves daylight time at 06:00 UTC on 1 November 2026.
        session_at(&app, "2026-10-30T23:30:00Z", "breathing").await; // 19:30 EDT, 30 Oct
        session_at(&app, "2026-10-31T12:00:00Z", "focus").await; // 08:00 EDT, 31 Oct
        session_at(&app, "2026-11-01T14:00:00Z", "breathing").await; // 09:00 EST, 1 Nov
        session_at(&app, "2026-11-02T04:30:00Z", "sleep").await; // 23:30 EST, still 1 Nov
        let ana = app.login("ana@example.com").await;
        let stats: Value = app.get_as("/api/user/stats", &ana.access).await.json().await.unwrap();
        assert_eq!(stats["total_sessions"], 4);
        assert_eq!(stats["total_minutes"], 40.0);
        assert_eq!(stats["average_minutes"], 10.0);
        // Three local days in a row (four in UTC).
        assert_eq!((stats["current_streak_days"].as_i64(), stats["longest_streak_days"].as_i64()), (Some(3), Some(3)), "{stats}");
        assert_eq!(stats["sessions_by_type"], json!({"breathing": 2, "focus": 1, "sleep": 1}));
        assert_eq!(stats["last_session"]["type"], "sleep");
        assert_eq!(stats["time_zone"], "America/New_York");

        // Served from the cache: a change behind plaza's back is not seen...
        sqlx::query("DELETE FROM meditation_sessions WHERE id = (SELECT id FROM meditation_sessions WHERE type = 'breathing' ORDER BY started_at DESC LIMIT 1)")
            .execute(app.state.db.writer())
            .await
            .unwrap();
        let cached: Value = app.get_as("/api/user/stats", &ana.access).await.json().await.unwrap();
        assert_eq!(cached["total_sessions"], 4);
        // ...but a session that ends is, on the next read.
        assert_eq!(start(&app, &ana, json!({})).await.status(), 201);
        app.clock.advance(Duration::from_secs(300));
        assert_eq!(end(&app, &ana, json!({})).await.status(), 200);
        let fresh: Value = app.get_as("/api/user/stats", &ana.access).await.json().await.unwrap();
        assert_eq!((fresh["total_sessions"].as_i64(), fresh["total_minutes"].as_f64()), (Some(4), Some(35.0)), "{fresh}");

        // Two days without a session end the current streak, not the longest.
        app.clock.advance(Duration::from_secs(2 * 24 * 3600));
        let ana = app.login("ana@example.com").await;
        let later: Value = app.get_as("/api/user/stats", &ana.access).await.json().await.unwrap();
        assert_eq!((later["current_streak_days"].as_i64(), later["longest_streak_days"].as_i64()), (Some(0), Some(3)), "{later}");
    }
}

crate::on_both_databases! {
    async fn a_session_left_open_is_closed_at_the_maximum_by_a_job(backend: Backend) {
        let app = TestApp::builder().backend(backend).config(|c| c.jobs.run = false).spawn().await;
        let ana = app.register("ana@example.com").await;
        app.register("bob@example.com").await;
        let left: Value = start(&app, &ana, json!({"type": "sleep"})).await.json().await.unwrap();
        app.clock.advance(Duration::from_secs(5 * 3600));
        let bobs: Value = start(&app, &app.login("bob@example.com").await, json!({})).await.json().await.unwrap();
        plaza_app::jobs::JobKind::run(&plaza_app::meditation::CloseStaleSessions {}, &app.state).await.unwrap();

        let ana = app.login("ana@example.com").await;
        let page: Value = app.get_as("/api/sessions", &ana.access).await.json().await.unwrap();
        let closed = &page["items"][0];
        assert_eq!(closed["id"], left["session"]["id"]);
        assert_eq!(closed["duration_sec"], 4 * 3600);
        let started: jiff::Timestamp = closed["started_at"].as_str().unwrap().parse().unwrap();
        let ended: jiff::Timestamp = closed["ended_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(ended.duration_since(started).as_secs(), 4 * 3600, "ended at the maximum, not now");
        error_body(end(&app, &ana, json!({})).await, 409, "conflict").await;
        let stats: Value = app.get_as("/api/user/stats", &ana.access).await.json().await.unwrap();
        assert_eq!(stats["total_minutes"], 240.0);
        // Bob's fresh session is left alone.
        let active: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM meditation_sessions WHERE ended_at IS NULL AND id = $1")
            .bind(bobs["session"]["id"].as_str().unwrap())
            .fetch_one(app.state.db.writer())
            .await
            .unwrap();
        assert_eq!(active, 1);
    }
}

crate::on_both_databases! {
    async fn analytics_bucket_my_sessions_by_local_day_week_and_month(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let res = app.send(reqwest::Method::PUT, "/api/user/profile", Some(&ana.access), Some(&json!({"timezone": "America/New_York"}))).await;
        assert_eq!(res.status(), 200);
        session_at(&app, "2026-10-30T23:30:00Z", "breathing").await; // Fri 30 Oct, EDT
        session_at(&app, "2026-11-02T04:30:00Z", "sleep").await; // Sun 1 Nov 23:30 EST
        session_at(&app, "2026-11-02T14:00:00Z", "focus").await; // Mon 2 Nov
        let ana = app.login("ana@example.com").await;

        let days: Value = app.get_as("/api/analytics/daily?from=2026-10-30&to=2026-11-02", &ana.access).await.json().await.unwrap();
        let got: Vec<(String, i64)> = days["buckets"].as_array().unwrap().iter()
            .map(|b| (b["period_start"].as_str().unwrap().to_owned(), b["sessions"].as_i64().unwrap()))
            .collect();
        let want = [("2026-10-30", 1), ("2026-10-31", 0), ("2026-11-01", 1), ("2026-11-02", 1)];
        assert_eq!(got, want.map(|(d, n)| (d.to_owned(), n)));
        assert_eq!(days["buckets"][0]["minutes"], 10.0);
        assert_eq!(days["buckets"][0]["average_mood_delta"], 2.0);
        assert_eq!(days["buckets"][1]["average_mood_delta"], Value::Null);

        let weeks: Value = app.get_as("/api/analytics/weekly?from=2026-10-26&to=2026-11-08", &ana.access).await.json().await.unwrap();
        let got: Vec<(&str, i64)> = weeks["buckets"].as_array().unwrap().iter()
            .map(|b| (b["period_start"].as_str().unwrap(), b["sessions"].as_i64().unwrap()))
            .collect();
        assert_eq!(got, [("2026-10-26", 2), ("2026-11-02", 1)], "weeks start on Monday");
        let months: Value = app.get_as("/api/analytics/monthly?from=2026-10-01&to=2026-11-30", &ana.access).await.json().await.unwrap();
        let got: Vec<(&str, i64)> = months["buckets"].as_array().unwrap().iter()
            .map(|b| (b["period_start"].as_str().unwrap(), b["sessions"].as_i64().unwrap()))
            .collect();
        assert_eq!(got, [("2026-10-01", 1), ("2026-11-01", 2)]);
        // The roll-up job changes nothing a reader sees: rolled-up days and
        // the live tail add up to the same, before and after each run.
        let daily = "/api/analytics/daily?from=2026-10-30&to=2026-11-03";
        let before: Value = app.get_as(daily, &ana.access).await.json().await.unwrap();
        app.clock.advance(Duration::from_secs(120));
        let rolled = plaza_app::meditation::roll_up(&app.state).await.unwrap();
        assert_eq!(rolled, 3);
        let rows: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM meditation_daily")
            .fetch_one(app.state.db.writer())
            .await
            .unwrap();
        assert_eq!(rows, 3, "three local days");
        let ana = app.login("ana@example.com").await;
        let after: Value = app.get_as(daily, &ana.access).await.json().await.unwrap();
        assert_eq!(after, before);
        // A session after the run is counted live, then rolled up once.
        session_at(&app, "2026-11-03T15:00:00Z", "focus").await;
        let ana = app.login("ana@example.com").await;
        let live: Value = app.get_as(daily, &ana.access).await.json().await.unwrap();
        assert_eq!(live["buckets"][4]["sessions"], 1);
        app.clock.advance(Duration::from_secs(120));
        assert_eq!(plaza_app::meditation::roll_up(&app.state).await.unwrap(), 1);
        assert_eq!(plaza_app::meditation::roll_up(&app.state).await.unwrap(), 0);
        let ana = app.login("ana@example.com").await;
        let rolled: Value = app.get_as(daily, &ana.access).await.json().await.unwrap();
        assert_eq!(rolled, live);

        // By default: the last 30 days up to today.
        let recent: Value = app.get_as("/api/analytics/daily", &ana.access).await.json().await.unwrap();
        assert_eq!(recent["buckets"].as_array().unwrap().len(), 30);

        for query in ["daily?from=yesterday", "daily?from=2026-11-02&to=2026-11-01", "daily?from=2020-01-01&to=2026-01-01", "weekly?scope=everything"] {
            error_body(app.get_as(&format!("/api/analytics/{query}"), &ana.access).await, 422, "validation_error").await;
        }
        assert_eq!(app.get("/api/analytics/daily").await.status(), 401);
    }
}

/// `(period_start, active_users, sessions)` of each bucket.
fn platform_buckets(report: &Value) -> Vec<(String, i64, i64)> {
    report["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["period_start"].as_str().unwrap().to_owned(),
                b["active_users"].as_i64().unwrap(),
                b["sessions"].as_i64().unwrap(),
            )
        })
        .collect()
}

crate::on_both_databases! {
    async fn admins_see_platform_wide_analytics_with_each_person_counted_once(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        app.register("bob@example.com").await;
        app.register("cara@example.com").await;
        let res = app.send(reqwest::Method::PUT, "/api/user/profile", Some(&ana.access), Some(&json!({"timezone": "America/New_York"}))).await;
        assert_eq!(res.status(), 200);
        session_of(&app, "bob@example.com", "2026-10-30T12:00:00Z", "focus").await;
        session_of(&app, "ana@example.com", "2026-10-30T23:30:00Z", "sleep").await; // 30 Oct in New York
        session_of(&app, "bob@example.com", "2026-11-02T09:00:00Z", "focus").await;
        session_of(&app, "ana@example.com", "2026-11-02T14:00:00Z", "focus").await;
        app.clock.advance(Duration::from_secs(120));
        assert_eq!(plaza_app::meditation::roll_up(&app.state).await.unwrap(), 4);
        // After the roll-up: counted live, and Ana (already rolled up that
        // day) still counts as one person.
        session_of(&app, "ana@example.com", "2026-11-02T16:00:00Z", "focus").await;

        let admin = app.make_admin("cara@example.com").await;
        let get = |path: String| {
            let app = &app;
            let token = admin.access.clone();
            async move { app.get_as(&path, &token).await.json::<Value>().await.unwrap() }
        };
        let days = get("/api/analytics/daily?scope=platform&from=2026-10-30&to=2026-11-02".into()).await;
        assert_eq!(days["time_zone"], Value::Null);
        let want = [("2026-10-30", 2, 2), ("2026-10-31", 0, 0), ("2026-11-01", 0, 0), ("2026-11-02", 2, 3)];
        assert_eq!(platform_buckets(&days), want.map(|(d, a, s)| (d.to_owned(), a, s)));
        assert_eq!(days["buckets"][3]["minutes"], 30.0);
        let weeks = get("/api/analytics/weekly?scope=platform&from=2026-10-26&to=2026-11-08".into()).await;
        assert_eq!(platform_buckets(&weeks), [("2026-10-26".to_owned(), 2, 2), ("2026-11-02".to_owned(), 2, 3)]);
        let months = get("/api/analytics/monthly?scope=platform&from=2026-10-01&to=2026-11-30".into()).await;
        assert_eq!(platform_buckets(&months), [("2026-10-01".to_owned(), 2, 2), ("2026-11-01".to_owned(), 2, 3)]);
        // Rolled up once more, the figures stay.
        app.clock.advance(Duration::from_secs(120));
        assert_eq!(plaza_app::meditation::roll_up(&app.state).await.unwrap(), 1);
        let admin = app.login("cara@example.com").await;
        let again: Value = app.get_as("/api/analytics/daily?scope=platform&from=2026-10-30&to=2026-11-02", &admin.access).await.json().await.unwrap();
        assert_eq!(again, days);
        // The admin's own report has no platform fields; others may not ask.
        let mine: Value = app.get_as("/api/analytics/daily?scope=me", &admin.access).await.json().await.unwrap();
        assert!(mine["buckets"][0].get("active_users").is_none(), "{mine}");
        let ana = app.login("ana@example.com").await;
        error_body(app.get_as("/api/analytics/weekly?scope=platform", &ana.access).await, 403, "forbidden").await;
    }
}
