//! FitSync (seed 003, issue 18): the profile, plans from the offline
//! planner or written by hand, workouts and meals logged, measurements,
//! and `GET /api/analytics/user` in the seed's shape; wrong input and
//! strangers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};
use crate::on_both_databases;

async fn put(app: &TestApp, who: &Tokens, path: &str, body: &Value) -> reqwest::Response {
    app.send(Method::PUT, path, Some(&who.access), Some(body))
        .await
}

async fn created(app: &TestApp, who: &Tokens, path: &str, body: Value) -> Value {
    let res = app.post_as(path, &who.access, &body).await;
    assert_eq!(res.status(), 201, "{path}");
    res.json().await.unwrap()
}

on_both_databases! {
    async fn a_fitsync_week_from_profile_to_analytics(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;

        // The starting profile until one is saved.
        let start: Value = app.get_as("/api/fitness/profile", &ana.access).await.json().await.unwrap();
        assert_eq!((start["profile"]["level"].as_str(), start["profile"]["days_per_week"].as_i64()), (Some("beginner"), Some(3)));
        let res = put(&app, &ana, "/api/fitness/profile", &json!({
            "level": "intermediate", "goals": ["build_muscle"], "equipment": ["dumbbells", "bench"],
            "days_per_week": 4, "minutes_per_session": 60, "height_mm": 1780, "sex": "female",
            "birth_year": 1992, "limitations": "old shoulder injury",
        })).await;
        assert_eq!(res.status(), 200);
        let profile: Value = app.get_as("/api/fitness/profile", &ana.access).await.json().await.unwrap();
        assert_eq!(profile["profile"]["goals"], json!(["build_muscle"]));
        assert_eq!(profile["profile"]["equipment"], json!(["bench", "dumbbells"]));

        // A measured weight feeds the energy targets.
        created(&app, &ana, "/api/fitness/measurements", json!({"weight_g": 80_000, "waist_mm": 820})).await;

        // Plans from the offline planner follow the profile.
        let workout = created(&app, &ana, "/api/fitness/plans", json!({"kind": "workout", "generate": true})).await;
        let plan = &workout["plan"];
        assert_eq!((plan["provider"].as_str(), plan["kind"].as_str()), (Some("offline"), Some("workout")));
        let days = plan["body"]["days"].as_array().unwrap();
        assert_eq!(days.len(), 4);
        let all: Vec<&str> = days.iter().flat_map(|d| d["exercises"].as_array().unwrap()).map(|e| e["name"].as_str().unwrap()).collect();
        assert!(!all.iter().any(|n| n.contains("press") || n.contains("Push-up") || n.contains("Pull-up")), "a shoulder is spared: {all:?}");
        assert!(all.iter().any(|n| n.contains("Dumbbell") || n.contains("dumbbell")), "{all:?}");
        let meals = created(&app, &ana, "/api/fitness/plans", json!({"kind": "meal", "generate": true})).await;
        // Mifflin–St Jeor: 10·80 + 6.25·178 − 5·34 − 161 = 1581.5; × 1.55 × 1.1 ≈ 2696.
        let targets = &meals["plan"]["body"]["targets"];
        assert_eq!(targets["calories"], 2696, "{targets}");
        assert_eq!(targets["protein_g"], 160);

        // A plan of my own, checked against its shape.
        let mine = json!({"days": [{"weekday": 2, "focus": "run", "exercises": [
            {"name": "Easy run", "sets": 1, "duration_sec": 1800, "rest_sec": 0}]}]});
        let written = created(&app, &ana, "/api/fitness/plans", json!({"kind": "workout", "name": "Run club", "plan": mine})).await;
        assert_eq!(written["plan"]["provider"], "manual");
        let listed: Value = app.get_as("/api/fitness/plans?kind=workout", &ana.access).await.json().await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 2);
        let plan_id = workout["plan"]["id"].as_str().unwrap().to_owned();

        // A workout: its calories from MET × weight × hours.
        let logged = created(&app, &ana, "/api/fitness/workouts", json!({
            "kind": "strength", "plan_id": plan_id, "duration_min": 60, "effort": 5,
            "sets": [{"exercise": "Goblet squat", "reps": 10, "weight_g": 24000},
                     {"exercise": "Goblet squat", "reps": 8, "weight_g": 28000},
                     {"exercise": "Plank", "duration_sec": 60}],
        })).await;
        // MET 5 × (0.7 + 0.6 × 4/9) × 80 kg × 1 h = 386.7
        assert_eq!(logged["workout"]["calories"], 387);
        created(&app, &ana, "/api/fitness/workouts", json!({"kind": "cardio", "duration_min": 30})).await;
        let workouts: Value = app.get_as("/api/fitness/workouts", &ana.access).await.json().await.unwrap();
        assert_eq!(workouts["items"].as_array().unwrap().len(), 2);
        assert_eq!(workouts["items"][1]["sets"].as_array().unwrap().len(), 3);

        // Meals against the day's targets.
        created(&app, &ana, "/api/fitness/meals", json!({"name": "Oats", "calories": 450, "protein_g": 20, "carbs_g": 60, "fat_g": 12})).await;
        created(&app, &ana, "/api/fitness/meals", json!({"name": "Chicken and rice", "calories": 700, "protein_g": 55, "carbs_g": 80, "fat_g": 15})).await;
        let day: Value = app.get_as("/api/fitness/meals", &ana.access).await.json().await.unwrap();
        assert_eq!(day["totals"], json!({"calories": 1150, "protein_g": 75, "carbs_g": 140, "fat_g": 27}));
        assert_eq!(day["targets"]["calories"], 2696);
        let other: Value = app.get_as("/api/fitness/meals?date=2020-01-01", &ana.access).await.json().await.unwrap();
        assert_eq!(other["meals"], json!([]));

        // Lighter a week later.
        created(&app, &ana, "/api/fitness/measurements", json!({"weight_g": 78_600})).await;

        // Seed 003's shape, and more.
        let a: Value = app.get_as("/api/analytics/user", &ana.access).await.json().await.unwrap();
        assert_eq!(a["workouts"]["total"], 2);
        assert_eq!(a["workouts"]["totalCalories"], 387 + logged_cardio(&workouts));
        assert_eq!(a["progress"]["weightChange"], -1.4);
        assert_eq!(a["aiUsage"]["totalChats"], 0);
        assert_eq!(a["workouts"]["streakDays"], 1);
        assert_eq!(a["workouts"]["thisWeek"], 2);
        assert_eq!(a["progress"]["personalRecords"], json!([{"exercise": "Goblet squat", "weightKg": 28.0, "reps": 8}]));

        // Deleting a plan; then it is gone.
        let path = format!("/api/fitness/plans/{plan_id}");
        assert_eq!(app.send(Method::DELETE, &path, Some(&ana.access), None).await.status(), 204);
        error_body(app.get_as(&path, &ana.access).await, 404, "not_found").await;
    }
}

fn logged_cardio(workouts: &Value) -> i64 {
    workouts["items"][0]["calories"].as_i64().unwrap()
}

on_both_databases! {
    async fn strangers_see_nothing_of_anothers_fitness(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let plan = created(&app, &ana, "/api/fitness/plans", json!({"kind": "workout", "generate": true})).await;
        created(&app, &ana, "/api/fitness/workouts", json!({"kind": "hiit", "duration_min": 20})).await;
        created(&app, &ana, "/api/fitness/measurements", json!({"weight_g": 60_000})).await;
        let path = format!("/api/fitness/plans/{}", plan["plan"]["id"].as_str().unwrap());
        let err = error_body(app.get_as(&path, &bob.access).await, 404, "not_found").await;
        assert_eq!(err["code"], "fitness.plan_not_found");
        error_body(app.send(Method::DELETE, &path, Some(&bob.access), None).await, 404, "not_found").await;
        // Bob cannot log against Ana's plan.
        let res = app.post_as("/api/fitness/workouts", &bob.access,
            &json!({"kind": "strength", "duration_min": 30, "plan_id": plan["plan"]["id"]})).await;
        error_body(res, 404, "not_found").await;
        for list in ["/api/fitness/plans", "/api/fitness/workouts", "/api/fitness/measurements"] {
            let body: Value = app.get_as(list, &bob.access).await.json().await.unwrap();
            assert_eq!(body["items"], json!([]), "{list}");
        }
        let a: Value = app.get_as("/api/analytics/user", &bob.access).await.json().await.unwrap();
        assert_eq!((a["workouts"]["total"].as_i64(), a["progress"]["currentWeightKg"].as_f64()), (Some(0), None));
        for path in ["/api/fitness/profile", "/api/analytics/user", "/api/fitness/plans"] {
            error_body(app.get(path).await, 401, "authentication_error").await;
        }
    }
}

#[tokio::test]
async fn wrong_fitness_input_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    for (body, field) in [
        (json!({"days_per_week": 8}), "days_per_week"),
        (json!({"minutes_per_session": 5}), "minutes_per_session"),
        (json!({"goals": []}), "goals"),
        (json!({"goals": ["fly"]}), "goals"),
        (json!({"level": "expert"}), "level"),
        (json!({"height_mm": 90}), "height_mm"),
        (json!({"birth_year": 2025}), "birth_year"),
        (json!({"limitations": "x".repeat(501)}), "limitations"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let err = error_body(
            put(&app, &ana, "/api/fitness/profile", &body).await,
            422,
            "validation_error",
        )
        .await;
        assert!(err.to_string().contains(field), "{body}: {err}");
    }
    for (body, field) in [
        (json!({"kind": "workout"}), "generate"),
        (
            json!({"kind": "workout", "generate": true, "name": "x"}),
            "generate",
        ),
        (json!({"kind": "sleep", "generate": true}), "kind"),
        (
            json!({"kind": "workout", "name": "Bad", "plan": {"days": [{"weekday": 9, "focus": "x", "exercises": []}]}}),
            "plan",
        ),
        (
            json!({"kind": "workout", "name": "Bad", "plan": {"days": [{"weekday": 1, "focus": "x", "exercises": [{"name": "Curl", "sets": 3, "rest_sec": 30}]}]}}),
            "plan",
        ),
        (
            json!({"kind": "meal", "name": "Bad", "plan": {"targets": {"calories": 100, "protein_g": 1, "carbs_g": 1, "fat_g": 1}, "days": []}}),
            "plan",
        ),
        (
            json!({"kind": "workout", "name": "", "plan": {"days": []}}),
            "name",
        ),
    ] {
        let err = error_body(
            app.post_as("/api/fitness/plans", &ana.access, &body).await,
            422,
            "validation_error",
        )
        .await;
        assert!(err.to_string().contains(field), "{body}: {err}");
    }
    for (body, field) in [
        (
            json!({"kind": "strength", "duration_min": 0}),
            "duration_min",
        ),
        (
            json!({"kind": "strength", "duration_min": 30, "effort": 11}),
            "effort",
        ),
        (json!({"kind": "yoga", "duration_min": 30}), "kind"),
        (
            json!({"kind": "strength", "duration_min": 30, "performed_at": "2999-01-01T00:00:00Z"}),
            "performed_at",
        ),
        (
            json!({"kind": "strength", "duration_min": 30, "sets": [{"exercise": "", "reps": 5}]}),
            "sets",
        ),
        (
            json!({"kind": "strength", "duration_min": 30, "sets": [{"exercise": "Squat"}]}),
            "sets",
        ),
    ] {
        let err = error_body(
            app.post_as("/api/fitness/workouts", &ana.access, &body)
                .await,
            422,
            "validation_error",
        )
        .await;
        assert!(err.to_string().contains(field), "{body}: {err}");
    }
    for (body, field) in [
        (
            json!({"name": "Cake", "calories": -1, "protein_g": 0, "carbs_g": 0, "fat_g": 0}),
            "meal",
        ),
        (
            json!({"name": "", "calories": 100, "protein_g": 0, "carbs_g": 0, "fat_g": 0}),
            "meal",
        ),
        (json!({"name": "Cake", "calories": 100}), "protein_g"),
    ] {
        let err = error_body(
            app.post_as("/api/fitness/meals", &ana.access, &body).await,
            422,
            "validation_error",
        )
        .await;
        assert!(err.to_string().contains(field), "{body}: {err}");
    }
    for (body, field) in [
        (json!({}), "weight_g"),
        (json!({"weight_g": 5}), "weight_g"),
        (json!({"body_fat_permille": 900}), "body_fat_permille"),
    ] {
        let err = error_body(
            app.post_as("/api/fitness/measurements", &ana.access, &body)
                .await,
            422,
            "validation_error",
        )
        .await;
        assert!(err.to_string().contains(field), "{body}: {err}");
    }
    error_body(
        app.get_as("/api/fitness/meals?date=tomorrow", &ana.access)
            .await,
        422,
        "validation_error",
    )
    .await;
    error_body(
        app.get_as("/api/fitness/plans?kind=sleep", &ana.access)
            .await,
        422,
        "validation_error",
    )
    .await;
    error_body(
        app.get_as("/api/fitness/plans/not-an-id", &ana.access)
            .await,
        404,
        "not_found",
    )
    .await;
    // Nothing was written.
    for list in [
        "/api/fitness/plans",
        "/api/fitness/workouts",
        "/api/fitness/measurements",
    ] {
        let body: Value = app.get_as(list, &ana.access).await.json().await.unwrap();
        assert_eq!(body["items"], json!([]), "{list}");
    }
    let p: Value = app
        .get_as("/api/fitness/profile", &ana.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["profile"]["days_per_week"], 3);
}

on_both_databases! {
    async fn fitsync_over_graphql_calls_the_same_services(backend: Backend) {
        use crate::graphql::{code, gql, ok};
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let token = Some(ana.access.as_str());
        let q = "mutation($i: FitnessProfileInput!) { updateFitnessProfile(input: $i) }";
        let body = gql(&app, token, q, json!({"i": {"level": "advanced", "goals": ["strength"], "daysPerWeek": 4, "reminderTime": "07:30"}})).await;
        let profile = &ok(&body)["updateFitnessProfile"];
        assert_eq!((profile["level"].as_str(), profile["reminder_time"].as_str()), (Some("advanced"), Some("07:30")));
        let bad = gql(&app, token, q, json!({"i": {"level": "olympian"}})).await;
        assert_eq!(code(&bad), "input.invalid");

        let body = gql(&app, token, r#"mutation { generatePlan(kind: "workout") { id kind provider week } }"#, json!({})).await;
        let plan = &ok(&body)["generatePlan"];
        assert_eq!((plan["kind"].as_str(), plan["provider"].as_str()), (Some("workout"), Some("offline")));
        assert_eq!(plan["week"]["days"].as_array().unwrap().len(), 4);
        let body = gql(&app, token, r#"mutation { logWorkout(kind: "strength", durationMin: 60, effort: 6) { calories } }"#, json!({})).await;
        assert!(ok(&body)["logWorkout"]["calories"].as_i64().unwrap() > 0);

        let body = gql(&app, token, r#"mutation { askCoach(message: "How should I train?", priority: "high") { status reply provider conversationId } }"#, json!({})).await;
        let reply = &ok(&body)["askCoach"];
        assert_eq!((reply["status"].as_str(), reply["provider"].as_str()), (Some("done"), Some("offline")));
        let body = gql(&app, token, "{ fitnessPlans { id } workouts { kind } userAnalytics coachConversations }", json!({})).await;
        let data = ok(&body);
        assert_eq!(data["fitnessPlans"].as_array().unwrap().len(), 1);
        assert_eq!(data["userAnalytics"]["workouts"]["total"], 1);
        assert_eq!(data["userAnalytics"]["aiUsage"]["totalChats"], 1);
        assert_eq!(data["coachConversations"].as_array().unwrap().len(), 1);

        // A stranger sees none of it.
        let bob = app.register("bob@example.com").await;
        let id = plan["id"].as_str().unwrap();
        let body = gql(&app, Some(&bob.access), "query($id: ID!) { fitnessPlan(id: $id) { id } }", json!({"id": id})).await;
        assert_eq!(code(&body), "fitness.plan_not_found");
        let conversation = reply["conversationId"].as_str().unwrap();
        let body = gql(&app, Some(&bob.access), "query($id: ID!) { coachConversation(id: $id) }", json!({"id": conversation})).await;
        assert_eq!(code(&body), "ai.conversation_not_found");
        let body = gql(&app, None, "{ fitnessProfile }", json!({})).await;
        assert_eq!(code(&body), "auth.token_missing");
    }
}
