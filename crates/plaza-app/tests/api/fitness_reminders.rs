//! Workout reminders and weekly reports (issue 18): at the time each
//! person chose in their time zone, on their plan's training days, not
//! when a workout is logged or during quiet hours, once a day; the week's
//! report on Monday morning local time, once, in-app and by mail.

use std::time::Duration;

use plaza_app::fitness::reminders::{Reminders, WeeklyReports};
use plaza_core::Timestamp;
use plaza_platform::jobs::JobKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens};

use crate::on_both_databases;

async fn put(app: &TestApp, who: &Tokens, path: &str, body: Value) {
    let res = app
        .send(Method::PUT, path, Some(&who.access), Some(&body))
        .await;
    assert_eq!(res.status(), 200, "{path}");
}

/// The titles of my notifications of `kind`, once deliveries settle.
async fn titles(app: &TestApp, who: &Tokens, kind: &str) -> Vec<String> {
    let mut last = Vec::new();
    for _ in 0..40 {
        let list: Value = app
            .get_as("/api/notifications", &who.access)
            .await
            .json()
            .await
            .unwrap();
        let now: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] == kind)
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect();
        if !now.is_empty() && now == last {
            return now;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// An app whose clock starts at `start` and whose tokens outlive the
/// days the tests jump over.
async fn app_from(backend: crate::helpers::Backend, start: &str) -> TestApp {
    let app = TestApp::builder()
        .backend(backend)
        .config(|c| {
            c.auth.access_ttl =
                plaza_platform::config::HumanDuration(Duration::from_secs(30 * 86_400))
        })
        .spawn()
        .await;
    app.clock.set(at(start));
    app
}

on_both_databases! {
    async fn reminders_come_on_training_days_at_my_local_time_once(backend: Backend) {
        let app = app_from(backend, "2026-12-01T00:00:00Z").await;
        let ana = app.register("ana@example.com").await;
        put(&app, &ana, "/api/user/profile", json!({"timezone": "Europe/Moscow"})).await;
        // Three days a week: the offline planner trains Mon, Wed, Fri.
        put(&app, &ana, "/api/fitness/profile", json!({"days_per_week": 3, "reminder_time": "18:00"})).await;
        let state = &app.state;

        // Wednesday 2026-12-02, 17:50 in Moscow (14:50 UTC): not yet.
        app.clock.set(at("2026-12-02T14:50:00Z"));
        Reminders {}.run(state).await.unwrap();
        // 18:05 Moscow: due; a second run the same day sends nothing more.
        app.clock.set(at("2026-12-02T15:05:00Z"));
        Reminders {}.run(state).await.unwrap();
        Reminders {}.run(state).await.unwrap();
        assert_eq!(titles(&app, &ana, "fitness.workout_reminder").await, ["Time to train"]);

        // Thursday is a rest day.
        app.clock.set(at("2026-12-03T15:05:00Z"));
        Reminders {}.run(state).await.unwrap();
        // Friday, but a workout is already logged.
        app.clock.set(at("2026-12-04T10:00:00Z"));
        let res = app.post_as("/api/fitness/workouts", &ana.access, &json!({"kind": "cardio", "duration_min": 30})).await;
        assert_eq!(res.status(), 201);
        app.clock.set(at("2026-12-04T15:05:00Z"));
        Reminders {}.run(state).await.unwrap();
        // Next Monday inside quiet hours (17:00–19:00 local): held back…
        put(&app, &ana, "/api/notifications/subscriptions", json!({"quiet_hours": {"start": "17:00", "end": "19:00"}})).await;
        app.clock.set(at("2026-12-07T15:05:00Z"));
        Reminders {}.run(state).await.unwrap();
        assert_eq!(titles(&app, &ana, "fitness.workout_reminder").await.len(), 1);
        // …and sent once they end, within the reminder's window.
        app.clock.set(at("2026-12-07T16:10:00Z"));
        Reminders {}.run(state).await.unwrap();
        assert_eq!(titles(&app, &ana, "fitness.workout_reminder").await.len(), 2);

        // No reminder time, no reminders.
        put(&app, &ana, "/api/fitness/profile", json!({"reminder_time": null})).await;
        app.clock.set(at("2026-12-09T15:05:00Z"));
        Reminders {}.run(state).await.unwrap();
        assert_eq!(titles(&app, &ana, "fitness.workout_reminder").await.len(), 2);
        let res = app.send(Method::PUT, "/api/fitness/profile", Some(&ana.access), Some(&json!({"reminder_time": "6pm"}))).await;
        assert_eq!(res.status(), 422);
    }
}

on_both_databases! {
    async fn the_weekly_report_goes_on_monday_morning_once_by_mail_too(backend: Backend) {
        let app = app_from(backend, "2026-11-29T00:00:00Z").await;
        let ana = app.register("ana@example.com").await;
        put(&app, &ana, "/api/fitness/profile", json!({"days_per_week": 3})).await;
        for day in ["2026-11-30T07:00:00Z", "2026-12-02T07:00:00Z", "2026-12-05T07:00:00Z"] {
            app.clock.set(at(day));
            let res = app.post_as("/api/fitness/workouts", &ana.access, &json!({"kind": "strength", "duration_min": 45})).await;
            assert_eq!(res.status(), 201);
        }
        let state = &app.state;
        // Monday 2026-12-07, 07:05 UTC: too early; 08:05: the report.
        app.clock.set(at("2026-12-07T07:05:00Z"));
        WeeklyReports {}.run(state).await.unwrap();
        app.clock.set(at("2026-12-07T08:05:00Z"));
        WeeklyReports {}.run(state).await.unwrap();
        WeeklyReports {}.run(state).await.unwrap();
        assert_eq!(titles(&app, &ana, "fitness.weekly_report").await, ["Your week: 3 workouts"]);
        let mail = app.mail_to("ana@example.com", "Your week").await;
        assert!(mail.contains("3 workouts, 135 minutes"), "{mail}");
    }
}
