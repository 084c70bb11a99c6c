//! The marketplace (seed 001): projects, their lifecycle, responses, and
//! what accepting one sets off (a chat and notices).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_body};

async fn put(app: &TestApp, path: &str, who: &Tokens, body: &Value) -> reqwest::Response {
    app.send(Method::PUT, path, Some(&who.access), Some(body))
        .await
}

async fn delete(app: &TestApp, path: &str, who: &Tokens) -> reqwest::Response {
    app.send(Method::DELETE, path, Some(&who.access), None)
        .await
}

fn project(title: &str) -> Value {
    json!({
        "title": title, "description": "Build it well.", "skills": ["Rust", "PostgreSQL"],
        "budget_min": 50_000, "budget_max": 150_000, "currency": "usd", "status": "open",
    })
}

/// Posts a project; its id.
async fn post_project(app: &TestApp, who: &Tokens, body: Value) -> String {
    let res = app.post_as("/api/projects", &who.access, &body).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["project"]["id"].as_str().unwrap().to_owned()
}

/// Responds to `project`; the response's id.
async fn respond(app: &TestApp, who: &Tokens, project: &str, bid: i64) -> String {
    let res = respond_raw(app, who, project, bid).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["response"]["id"].as_str().unwrap().to_owned()
}

async fn respond_raw(app: &TestApp, who: &Tokens, project: &str, bid: i64) -> reqwest::Response {
    let body = json!({"cover_letter": "I have done this before.", "bid_amount": bid, "currency": "USD", "eta_days": 14});
    app.post_as(
        &format!("/api/projects/{project}/responses"),
        &who.access,
        &body,
    )
    .await
}

async fn get_project(app: &TestApp, who: &Tokens, id: &str) -> Value {
    let res = app
        .get_as(&format!("/api/projects/{id}"), &who.access)
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["project"].clone()
}

/// Waits for `n` notices of `kind` to reach `who`; the newest first.
pub async fn notices(app: &TestApp, who: &Tokens, kind: &str, n: usize) -> Vec<Value> {
    for _ in 0..400 {
        let body: Value = app
            .get_as("/api/notifications?limit=100", &who.access)
            .await
            .json()
            .await
            .unwrap();
        let found: Vec<Value> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] == kind)
            .cloned()
            .collect();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} notices of {kind}");
}

crate::on_both_databases! {
    async fn a_project_goes_from_draft_to_completed_through_an_accepted_response(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let cara = app.register("cara@example.com").await;
        let draft = json!({"title": "  Payments API  ", "description": "A REST API for payments.",
            "skills": ["Rust", "rust", " Axum "], "budget_min": 100_000, "budget_max": 250_000,
            "currency": "eur", "deadline": "2099-01-31"});
        let res = app.post_as("/api/projects", &ana.access, &draft).await;
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await.unwrap();
        let p = &created["project"];
        assert_eq!((p["title"].as_str(), p["status"].as_str(), p["currency"].as_str()), (Some("Payments API"), Some("draft"), Some("EUR")));
        assert_eq!(p["skills"], json!(["rust", "axum"]));
        assert_eq!((p["budget_min"].as_i64(), p["deadline"].as_str(), p["responses_count"].as_i64()), (Some(100_000), Some("2099-01-31"), Some(0)));
        let id = p["id"].as_str().unwrap().to_owned();
        let path = format!("/api/projects/{id}");

        // A draft is its owner's alone.
        error_body(app.get_as(&path, &bob.access).await, 404, "not_found").await;
        error_body(app.get(&path).await, 404, "not_found").await;
        let res = app.post_as(&format!("{path}/responses"), &bob.access, &json!({"cover_letter": "x", "bid_amount": 1, "currency": "EUR", "eta_days": 1})).await;
        error_body(res, 404, "not_found").await;

        // Published, it is listed to everyone, signed in or not.
        let res = put(&app, &path, &ana, &json!({"status": "open", "description": "A REST API for card payments."})).await;
        assert_eq!(res.status(), 200);
        let listed: Value = app.get("/api/projects").await.json().await.unwrap();
        assert_eq!((listed["total"].as_i64(), listed["items"][0]["id"].as_str()), (Some(1), Some(id.as_str())));

        // Responses: each notifies the owner.
        let body = json!({"cover_letter": "Done three of these.", "bid_amount": 200_000, "currency": "EUR", "eta_days": 30});
        let res = app.post_as(&format!("{path}/responses"), &bob.access, &body).await;
        assert_eq!(res.status(), 201);
        let bobs: Value = res.json().await.unwrap();
        let bobs = bobs["response"]["id"].as_str().unwrap().to_owned();
        let res = app.post_as(&format!("{path}/responses"), &cara.access, &json!({"cover_letter": "Cheaper.", "bid_amount": 150_000, "currency": "EUR", "eta_days": 45})).await;
        assert_eq!(res.status(), 201);
        let told = notices(&app, &ana, "project.response.created", 2).await;
        assert_eq!(told[0]["data"]["title"], "Payments API");
        assert!(told[0]["title"].as_str().unwrap().contains("Payments API"), "{}", told[0]);
        assert_eq!(get_project(&app, &ana, &id).await["responses_count"], 2);

        // Bob edits his while pending; the owner sees both, each freelancer their own.
        let rpath = format!("{path}/responses/{bobs}");
        let res = put(&app, &rpath, &bob, &json!({"bid_amount": 180_000, "eta_days": 25})).await;
        assert_eq!(res.status(), 200);
        let all: Value = app.get_as(&format!("{path}/responses"), &ana.access).await.json().await.unwrap();
        assert_eq!(all["total"], 2);
        assert_eq!((all["items"][0]["bid_amount"].as_i64(), all["items"][0]["status"].as_str()), (Some(180_000), Some("pending")));
        let own: Value = app.get_as(&format!("{path}/responses"), &cara.access).await.json().await.unwrap();
        assert_eq!((own["total"].as_i64(), own["items"][0]["freelancer_id"].as_str()), (Some(1), Some(cara.user_id.as_str())));

        // Accepting Bob's starts the project and declines Cara's.
        let res = put(&app, &rpath, &ana, &json!({"status": "accepted"})).await;
        assert_eq!(res.status(), 200);
        let accepted: Value = res.json().await.unwrap();
        assert_eq!(accepted["response"]["status"], "accepted");
        let p = get_project(&app, &ana, &id).await;
        assert_eq!((p["status"].as_str(), p["accepted_response_id"].as_str()), (Some("in_progress"), Some(bobs.as_str())));
        let own: Value = app.get_as(&format!("{path}/responses"), &cara.access).await.json().await.unwrap();
        assert_eq!(own["items"][0]["status"], "rejected");
        notices(&app, &cara, "project.response.rejected", 1).await;

        // Both are told, and a direct chat between them is open.
        let to_bob = notices(&app, &bob, "project.response.accepted", 1).await;
        let to_ana = notices(&app, &ana, "project.response.accepted", 1).await;
        let chat = to_bob[0]["data"]["chat_id"].as_str().unwrap().to_owned();
        assert_eq!(to_ana[0]["data"]["chat_id"], chat.as_str());
        assert_eq!((to_bob[0]["data"]["role"].as_str(), to_ana[0]["data"]["role"].as_str()), (Some("freelancer"), Some("owner")));
        let chats: Value = app.get_as("/api/chats", &bob.access).await.json().await.unwrap();
        let direct = chats["items"].as_array().unwrap().iter().find(|c| c["id"] == chat.as_str()).expect("the chat is Bob's");
        assert_eq!(direct["type"], "direct");
        let chats: Value = app.get_as("/api/chats", &cara.access).await.json().await.unwrap();
        assert!(chats["items"].as_array().unwrap().is_empty(), "not Cara's");

        // The budget is settled; the work goes on to completion and stops there.
        let err = error_body(put(&app, &path, &ana, &json!({"budget_max": 300_000})).await, 409, "conflict").await;
        assert!(err["error"].as_str().unwrap().contains("budget"), "{err}");
        assert_eq!(put(&app, &path, &ana, &json!({"title": "Payments API v2"})).await.status(), 200);
        assert_eq!(put(&app, &path, &ana, &json!({"status": "completed"})).await.status(), 200);
        let err = error_body(put(&app, &path, &ana, &json!({"status": "open"})).await, 409, "conflict").await;
        assert_eq!((err["details"]["from"].as_str(), err["details"]["allowed"].clone()), (Some("completed"), json!([])));
        let events: Vec<String> = sqlx::query_scalar("SELECT type FROM outbox WHERE subject = $1 ORDER BY id")
            .bind(format!("project:{id}"))
            .fetch_all(app.state.db.writer())
            .await
            .unwrap();
        assert_eq!(events, ["project.created", "project.status_changed", "project.response.created", "project.response.created",
            "project.status_changed", "project.response.accepted", "project.response.rejected", "project.status_changed"]);
    }
}

crate::on_both_databases! {
    async fn forbidden_acts_are_refused_and_change_nothing(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let cara = app.register("cara@example.com").await;
        let id = post_project(&app, &ana, project("Search engine")).await;
        let path = format!("/api/projects/{id}");

        // Someone else's project.
        error_body(put(&app, &path, &bob, &json!({"title": "Mine now"})).await, 403, "forbidden").await;
        error_body(delete(&app, &path, &bob).await, 403, "forbidden").await;
        // My own project.
        error_body(respond_raw(&app, &ana, &id, 1000).await, 403, "forbidden").await;
        // A second response.
        let bobs = respond(&app, &bob, &id, 100_000).await;
        let err = error_body(respond_raw(&app, &bob, &id, 90_000).await, 409, "conflict").await;
        assert_eq!(err["details"]["response"]["id"], bobs.as_str());
        // The wrong currency.
        let res = app.post_as(&format!("{path}/responses"), &cara.access, &json!({"cover_letter": "x", "bid_amount": 5, "currency": "GBP", "eta_days": 3})).await;
        error_body(res, 422, "validation_error").await;
        // Decisions belong to the owner, withdrawal and edits to the author.
        let rpath = format!("{path}/responses/{bobs}");
        error_body(put(&app, &rpath, &bob, &json!({"status": "accepted"})).await, 403, "forbidden").await;
        error_body(put(&app, &rpath, &ana, &json!({"status": "withdrawn"})).await, 403, "forbidden").await;
        error_body(put(&app, &rpath, &ana, &json!({"bid_amount": 1})).await, 403, "forbidden").await;
        error_body(put(&app, &rpath, &cara, &json!({"status": "rejected"})).await, 404, "not_found").await;
        error_body(put(&app, &rpath, &ana, &json!({"status": "accepted", "eta_days": 3})).await, 422, "validation_error").await;
        error_body(put(&app, &rpath, &ana, &json!({})).await, 422, "validation_error").await;
        // Moves that do not exist, naming those that do.
        let err = error_body(put(&app, &path, &ana, &json!({"status": "completed"})).await, 409, "conflict").await;
        assert_eq!(err["details"]["allowed"], json!(["in_progress", "cancelled"]));
        let err = error_body(put(&app, &path, &ana, &json!({"status": "in_progress"})).await, 409, "conflict").await;
        assert!(err["error"].as_str().unwrap().contains("accepts a response"), "{err}");
        // Accepting on a cancelled project.
        assert_eq!(put(&app, &path, &ana, &json!({"status": "cancelled"})).await.status(), 200);
        let err = error_body(put(&app, &rpath, &ana, &json!({"status": "accepted"})).await, 409, "conflict").await;
        assert_eq!(err["details"]["status"], "cancelled");
        error_body(respond_raw(&app, &cara, &id, 5).await, 409, "conflict").await;
        let err = error_body(put(&app, &path, &ana, &json!({"status": "open"})).await, 409, "conflict").await;
        assert_eq!(err["details"]["allowed"], json!([]));
        // Nothing moved.
        let p = get_project(&app, &ana, &id).await;
        assert_eq!((p["status"].as_str(), p["title"].as_str(), p["responses_count"].as_i64()), (Some("cancelled"), Some("Search engine"), Some(1)));
        let own: Value = app.get_as(&format!("{path}/responses"), &bob.access).await.json().await.unwrap();
        assert_eq!(own["items"][0]["status"], "pending");
        // A withdrawn response stays withdrawn.
        assert_eq!(put(&app, &rpath, &bob, &json!({"status": "withdrawn"})).await.status(), 200);
        error_body(put(&app, &rpath, &bob, &json!({"cover_letter": "again"})).await, 409, "conflict").await;
    }
}

#[tokio::test]
async fn wrong_input_to_projects_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let ana = app.register("ana@example.com").await;
    assert_eq!(
        app.post_json("/api/projects", &project("x")).await.status(),
        401
    );
    let with = |field: &str, value: Value| {
        let mut body = project("A fine project");
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("title", json!("ab")), "title"),
        (with("title", json!("x".repeat(201))), "title"),
        (with("description", json!("  ")), "description"),
        (with("budget_min", json!(-5)), "budget_min"),
        (with("budget_max", json!(0)), "budget_max"),
        (with("budget_min", json!(900_000)), "budget_max"),
        (with("currency", json!("XYZ")), "currency"),
        (with("deadline", json!("2001-01-01")), "deadline"),
        (with("deadline", json!("soon")), "deadline"),
        (with("skills", json!(["<script>"])), "skills"),
        (with("skills", json!(vec!["a"; 21])), "skills"),
        (with("status", json!("completed")), "status"),
        (with("status", json!("paused")), "status"),
        (with("budget_max", json!("lots")), "budget_max"),
    ] {
        let res = app.post_as("/api/projects", &ana.access, &body).await;
        let err = error_body(res, 422, "validation_error").await;
        assert!(
            err["details"]["fields"][field].is_string(),
            "{field}: {err}"
        );
    }
    let res = app
        .post_as("/api/projects", &ana.access, &with("colour", json!("red")))
        .await;
    error_body(res, 422, "validation_error").await;
    let mine: Value = app
        .get_as("/api/projects?status=draft", &ana.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 0);
    let listed: Value = app.get("/api/projects").await.json().await.unwrap();
    assert_eq!(listed["total"], 0);

    for query in [
        "limit=0",
        "limit=500",
        "offset=20000",
        "sort=relevance",
        "sort=cheapest",
        "status=paused",
        "q=%21%21%21",
        "owner_id=ana",
        "budget_min=lots",
        "currency=XYZ",
        "skills=%3Cscript%3E",
        "colour=red",
    ] {
        let res = app.get(&format!("/api/projects?{query}")).await;
        error_body(res, 422, "validation_error").await;
    }

    let id = post_project(&app, &ana, project("A fine project")).await;
    let bob = app.register("bob@example.com").await;
    let responses = format!("/api/projects/{id}/responses");
    for (body, field) in [
        (
            json!({"cover_letter": "", "bid_amount": 5, "currency": "USD", "eta_days": 3}),
            "cover_letter",
        ),
        (
            json!({"cover_letter": "x", "bid_amount": 0, "currency": "USD", "eta_days": 3}),
            "bid_amount",
        ),
        (
            json!({"cover_letter": "x", "bid_amount": 5, "currency": "USD", "eta_days": 0}),
            "eta_days",
        ),
        (
            json!({"cover_letter": "x", "bid_amount": 5, "currency": "USD", "eta_days": 400}),
            "eta_days",
        ),
        (
            json!({"cover_letter": "x", "bid_amount": 5, "currency": "dollars", "eta_days": 3}),
            "currency",
        ),
    ] {
        let res = app.post_as(&responses, &bob.access, &body).await;
        let err = error_body(res, 422, "validation_error").await;
        assert!(
            err["details"]["fields"][field].is_string(),
            "{field}: {err}"
        );
    }
    let mine: Value = app
        .get_as(&responses, &bob.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 0);
    for path in ["/api/projects/nope", "/api/projects/nope/responses"] {
        error_body(app.get_as(path, &ana.access).await, 404, "not_found").await;
    }
    let missing = format!("/api/projects/{id}/responses/nope");
    let res = put(&app, &missing, &ana, &json!({"status": "accepted"})).await;
    error_body(res, 404, "not_found").await;
}

crate::on_both_databases! {
    async fn concurrent_accepts_start_the_project_exactly_once(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let id = post_project(&app, &ana, project("Race")).await;
        let mut responses = Vec::new();
        for name in ["bob", "cara", "dan", "eve"] {
            let who = app.register(&format!("{name}@example.com")).await;
            responses.push(respond(&app, &who, &id, 100_000).await);
        }
        let attempts = responses.iter().cycle().take(12).map(|rid| {
            let path = format!("/api/projects/{id}/responses/{rid}");
            let app = &app;
            let ana = &ana;
            async move { put(app, &path, ana, &json!({"status": "accepted"})).await.status().as_u16() }
        });
        let statuses = futures_util::future::join_all(attempts).await;
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
        let p = get_project(&app, &ana, &id).await;
        assert_eq!(p["status"], "in_progress");
        let all: Value = app.get_as(&format!("/api/projects/{id}/responses"), &ana.access).await.json().await.unwrap();
        let states: Vec<&str> = all["items"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(states.iter().filter(|s| **s == "accepted").count(), 1, "{states:?}");
        assert_eq!(states.iter().filter(|s| **s == "rejected").count(), 3, "{states:?}");
        let winner = all["items"].as_array().unwrap().iter().find(|r| r["status"] == "accepted").unwrap();
        assert_eq!(p["accepted_response_id"], winner["id"]);
    }
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

crate::on_both_databases! {
    async fn search_ranks_the_best_match_first_and_filters(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let corpus = [
            ("Rust backend with PostgreSQL", "A service in Rust over PostgreSQL.", vec!["rust", "postgresql"], Some(300_000)),
            ("Landing page", "Marketing site; the backend team uses Rust.", vec!["html", "css"], Some(50_000)),
            ("Mobile app", "An iOS app talking to a PostgreSQL-backed API.", vec!["swift"], Some(400_000)),
            ("Data pipeline", "Move rows from MySQL to PostgreSQL nightly.", vec!["python", "postgresql"], None),
            ("Game mod", "Lua scripting for a game.", vec!["lua"], Some(20_000)),
            ("Rusty fence", "Paint a rusty fence (not software).", vec!["painting"], Some(10_000)),
        ];
        for (i, (title, description, skills, budget)) in corpus.iter().enumerate() {
            let owner = if i % 2 == 0 { &ana } else { &bob };
            let body = json!({"title": title, "description": description, "skills": skills,
                "budget_max": budget, "currency": "USD", "status": "open"});
            post_project(&app, owner, body).await;
        }
        // Not listed: a draft, and an archived project.
        post_project(&app, &ana, json!({"title": "Rust PostgreSQL draft", "description": "Secret.", "currency": "USD"})).await;
        let archived = post_project(&app, &bob, json!({"title": "Rust PostgreSQL old", "description": "Gone.", "currency": "USD", "status": "open"})).await;
        respond(&app, &ana, &archived, 10).await;
        assert_eq!(delete(&app, &format!("/api/projects/{archived}"), &bob).await.status(), 204);

        let search = |query: &str| {
            let app = &app;
            let query = query.to_owned();
            async move {
                let res = app.get(&format!("/api/projects?{query}")).await;
                assert_eq!(res.status(), 200, "{query}");
                res.json::<Value>().await.unwrap()
            }
        };
        // Both words in the title beat one in the title, which beats the description.
        let found = search("q=rust+postgresql").await;
        assert_eq!(titles(&found)[0], "Rust backend with PostgreSQL");
        assert_eq!(found["total"], 1, "every word is needed: {found}");
        let found = search("q=rust").await;
        assert_eq!(titles(&found), ["Rust backend with PostgreSQL", "Rusty fence", "Landing page"], "prefixes match");
        let found = search("q=postgresql").await;
        // In title, skills and description; in skills and description; in the description.
        assert_eq!(titles(&found), ["Rust backend with PostgreSQL", "Data pipeline", "Mobile app"]);
        // Filters, sorting, pages.
        assert_eq!(titles(&search("skills=lua,swift&sort=budget").await), ["Mobile app", "Game mod"]);
        assert_eq!(titles(&search("budget_min=100000&sort=budget").await), ["Mobile app", "Rust backend with PostgreSQL"]);
        assert_eq!(titles(&search("budget_max=20000&currency=USD&sort=budget").await), ["Game mod", "Rusty fence"]);
        let budget = search("sort=budget&limit=2").await;
        assert_eq!((titles(&budget).len(), budget["total"].as_i64(), budget["has_more"].as_bool()), (2, Some(6), Some(true)));
        let last = search("sort=budget&limit=2&offset=4").await;
        assert_eq!((titles(&last)[1].as_str(), last["has_more"].as_bool()), ("Data pipeline", Some(false)));
        let bobs = search(&format!("owner_id={}", bob.user_id)).await;
        assert_eq!(bobs["total"], 3);
        assert_eq!(titles(&search("").await)[0], "Rusty fence", "newest first");
        // My drafts and my archive, only mine.
        let drafts: Value = app.get_as("/api/projects?status=draft&q=rust", &ana.access).await.json().await.unwrap();
        assert_eq!(titles(&drafts), ["Rust PostgreSQL draft"]);
        let drafts: Value = app.get_as("/api/projects?status=draft", &bob.access).await.json().await.unwrap();
        assert_eq!(drafts["total"], 0);
        assert_eq!(search("status=draft").await["total"], 0);
        let archive: Value = app.get_as("/api/projects?status=archived", &bob.access).await.json().await.unwrap();
        assert_eq!(titles(&archive), ["Rust PostgreSQL old"]);
        // Someone who responded still sees an archived project; others do not.
        assert_eq!(get_project(&app, &ana, &archived).await["status"], "archived");
        let cara = app.register("cara@example.com").await;
        error_body(app.get_as(&format!("/api/projects/{archived}"), &cara.access).await, 404, "not_found").await;
        // Without responses, a deleted project is gone.
        let gone = post_project(&app, &bob, project("Short-lived")).await;
        assert_eq!(delete(&app, &format!("/api/projects/{gone}"), &bob).await.status(), 204);
        error_body(app.get_as(&format!("/api/projects/{gone}"), &bob.access).await, 404, "not_found").await;
        // An edit is searchable at once.
        let id = post_project(&app, &bob, project("Kotlin app")).await;
        assert_eq!(search("q=zephyr").await["total"], 0);
        assert_eq!(put(&app, &format!("/api/projects/{id}"), &bob, &json!({"description": "Zephyr RTOS firmware"})).await.status(), 200);
        assert_eq!(titles(&search("q=zephyr").await), ["Kotlin app"]);
    }
}
