//! No N+1 in GraphQL: the SQL statements one `getChats` of 50 chats runs —
//! with each chat's last message, its sender, reactions and members —
//! counted from sqlx's own statement log, on both databases. Its own test
//! binary, so the count sees no other test's statements.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

use helpers::TestApp;

/// The statements sqlx logged while counting was on.
#[derive(Clone, Default)]
struct Statements {
    on: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" || !self.on.load(Ordering::SeqCst) {
            return;
        }
        struct Text(String);
        impl Visit for Text {
            fn record_str(&mut self, field: &Field, value: &str) {
                if matches!(field.name(), "summary" | "db.statement") {
                    self.0.push_str(value);
                    self.0.push(' ');
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        self.seen.lock().unwrap().push(text.0);
    }
}

fn statements() -> &'static Statements {
    static STATEMENTS: OnceLock<Statements> = OnceLock::new();
    STATEMENTS.get_or_init(|| {
        let statements = Statements::default();
        let subscriber = Registry::default().with(statements.clone());
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        statements
    })
}

/// One test counts at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Background work that runs on its own schedule, not the request's.
fn background(sql: &str) -> bool {
    ["outbox", "jobs", "presence", "schedules", "encryption_keys"]
        .iter()
        .any(|t| sql.contains(t))
}

async fn gql(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body
}

/// Most statements one `getChats` of 50 may run, whatever the page
/// holds: the chats, their last messages, the members and the people,
/// each read once (5 measured), with room for the odd background
/// statement the filter does not know; one per chat would be 50 or more.
const BOUND: usize = 10;

on_both_databases! {
    async fn get_chats_of_fifty_reads_a_bounded_number_of_statements(backend: Backend) {
        let statements = statements();
        let _one = ONE_AT_A_TIME.lock().await;
        let app = TestApp::builder()
            .backend(backend)
            .config(|c| c.jobs.run = false)
            .spawn()
            .await;
        let ana = app.register("ana@example.com").await;
        let bob = app.register("bob@example.com").await;
        let cyd = app.register("cyd@example.com").await;
        for i in 0..50 {
            let chat = app.group(&ana, &format!("group {i}"), &[&bob, &cyd]).await;
            let sender = [&ana, &bob, &cyd][i % 3];
            let res = app
                .post_as(&format!("/api/chats/{chat}/messages"), &sender.access, &json!({"content": format!("hello {i}")}))
                .await;
            assert_eq!(res.status(), 201);
        }
        let query = "{ getChats(first: 50) { edges { node { id name unreadCount memberCount \
            lastMessage { content sender { username } reactions { emoji count } attachments { id } } \
            members { role user { username displayName } } } } pageInfo { hasNextPage } } }";
        // Warm: the signing key and the session's standing are cached after one request.
        gql(&app, &ana.access, query, json!({})).await;

        statements.seen.lock().unwrap().clear();
        statements.on.store(true, Ordering::SeqCst);
        let body = gql(&app, &ana.access, query, json!({})).await;
        statements.on.store(false, Ordering::SeqCst);

        let edges = body["data"]["getChats"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 50);
        for edge in edges {
            let node = &edge["node"];
            assert_eq!(node["members"].as_array().unwrap().len(), 3);
            assert!(node["lastMessage"]["sender"]["username"].is_string(), "{node}");
        }
        let seen: Vec<String> = statements
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| !background(s))
            .cloned()
            .collect();
        assert!(
            seen.len() <= BOUND,
            "{} statements for 50 chats (bound {BOUND}):\n{}",
            seen.len(),
            seen.join("\n")
        );
        eprintln!("getChats of 50 on {backend:?}: {} statements", seen.len());
    }
}
