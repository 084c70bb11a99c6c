//! The schema and its rules: depth, complexity and size limits,
//! introspection by configuration, automatic persisted queries, and a
//! count and latency per operation name.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextResolve,
    ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{MergedObject, Response, Schema, ServerResult, Value, Variables};
use metrics::{Counter, Histogram};
use plaza_platform::config::Config;

use super::fitness::{FitnessMutation, FitnessQuery};
use super::meditation::{MeditationMutation, MeditationQuery};
use super::mutation::MessengerMutation;
use super::payments::{PaymentsMutation, PaymentsQuery};
use super::query::MessengerQuery;
use super::subscription::Subscription;

/// Every module's queries; later modules add theirs here.
#[derive(MergedObject, Default)]
pub struct Query(MessengerQuery, MeditationQuery, PaymentsQuery, FitnessQuery);

/// Every module's mutations.
#[derive(MergedObject, Default)]
pub struct Mutation(
    MessengerMutation,
    MeditationMutation,
    PaymentsMutation,
    FitnessMutation,
);

pub type PlazaSchema = Schema<Query, Mutation, Subscription>;

/// Queries whose text the persisted-query cache keeps.
const PERSISTED_QUERIES: usize = 1024;

/// The schema as `config` asks for it.
pub fn build(config: &Config) -> PlazaSchema {
    let rules = &config.graphql;
    let mut schema = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(rules.max_depth as usize)
        .limit_complexity(rules.max_complexity as usize)
        .limit_recursive_depth(rules.max_depth as usize * 2)
        .extension(Metrics);
    if !introspection(config) {
        schema = schema.disable_introspection().extension(NoIntrospection);
    }
    if rules.persisted_queries {
        let cache = LruCacheStorage::new(PERSISTED_QUERIES);
        schema = schema.extension(ApolloPersistedQueries::new(cache));
    }
    schema.finish()
}

/// Whether `__schema` is answered: as configured, else on in the
/// embedded mode (SQLite) and off on PostgreSQL.
pub fn introspection(config: &Config) -> bool {
    config
        .graphql
        .introspection
        .unwrap_or_else(|| !config.database_url().expose().starts_with("postgres"))
}

/// Refuses `__schema` and `__type` with an error, where the engine with
/// introspection off would answer `null` (`__typename` stays).
struct NoIntrospection;

impl ExtensionFactory for NoIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NoIntrospection)
    }
}

#[async_trait::async_trait]
impl Extension for NoIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if asks_introspection(query) {
            return Err(async_graphql::ServerError::new(
                "introspection is off on this server (graphql.introspection); \
                 read the schema with `plaza graphql schema`",
                None,
            ));
        }
        next.run(ctx, query, variables).await
    }
}

/// Whether `query` names `__schema` or `__type(…)`.
fn asks_introspection(query: &str) -> bool {
    query.contains("__schema")
        || query
            .match_indices("__type")
            .any(|(at, _)| query[at + "__type".len()..].trim_start().starts_with('('))
}

/// The schema in SDL, as `plaza graphql schema` prints it and
/// docs/schema.graphql holds it.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl()
}

/// Counts and times operations by name (`plaza_graphql_operations_total`,
/// `plaza_graphql_operation_duration_seconds`), and tells a shared
/// subscription payload which fields failed (graphql/shared.rs). One
/// extension for both: each runs for every event a subscription sends.
struct Metrics;

impl ExtensionFactory for Metrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetrics::default())
    }
}

#[derive(Default)]
struct OperationMetrics {
    /// The operation's kind and name, read from the query text.
    named: Mutex<Option<(&'static str, String)>>,
    /// Its metrics, looked up once: a subscription runs `execute` for
    /// every event it sends.
    handles: OnceLock<Handles>,
}

struct Handles {
    name: String,
    kind: &'static str,
    ok: Counter,
    failed: Counter,
    duration: Histogram,
}

impl OperationMetrics {
    fn handles(&self, operation_name: Option<&str>) -> &Handles {
        self.handles.get_or_init(|| {
            let (kind, found) = self
                .named
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
                .unwrap_or(("query", String::new()));
            let name = label(operation_name.unwrap_or(&found));
            let count = |outcome: &'static str| {
                metrics::counter!("plaza_graphql_operations_total", "operation" => name.clone(), "kind" => kind, "outcome" => outcome)
            };
            Handles {
                ok: count("ok"),
                failed: count("error"),
                duration: metrics::histogram!("plaza_graphql_operation_duration_seconds", "operation" => name.clone(), "kind" => kind),
                name,
                kind,
            }
        })
    }
}

#[async_trait::async_trait]
impl Extension for OperationMetrics {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let named = operation(query);
        *self
            .named
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(named);
        next.run(ctx, query, variables).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let handles = self.handles(operation_name);
        let span = tracing::info_span!("graphql", operation = %handles.name, kind = handles.kind);
        let started = Instant::now();
        let response = tracing::Instrument::instrument(next.run(ctx, operation_name), span).await;
        if response.errors.is_empty() {
            handles.ok.increment(1);
        } else {
            handles.failed.increment(1);
        }
        handles.duration.record(started.elapsed().as_secs_f64());
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let resolved = next.run(ctx, info).await;
        if resolved.is_err() {
            super::shared::count_failure(ctx);
        }
        resolved
    }
}

/// The kind and name of the first operation in `query`, by its first
/// words (`query Name`, `mutation Name`, …); `{ … }` is an anonymous query.
fn operation(query: &str) -> (&'static str, String) {
    let text: String = query
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    let text = text.trim_start();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let keyword = ident(text);
    let kind = match keyword.as_str() {
        "mutation" => "mutation",
        "subscription" => "subscription",
        "query" => "query",
        _ => return ("query", String::new()),
    };
    (kind, ident(text[keyword.len()..].trim_start()))
}

/// Names become metric labels: bounded in length and in number, so a
/// client cannot flood the metrics with made-up names.
fn label(name: &str) -> String {
    const MAX_NAMES: usize = 500;
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    if name.is_empty() {
        return "anonymous".into();
    }
    if name.len() > 64 {
        return "other".into();
    }
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.contains(name) {
        return name.to_owned();
    }
    if seen.len() >= MAX_NAMES {
        return "other".into();
    }
    seen.insert(name.to_owned());
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_by_their_first_words() {
        assert_eq!(
            operation("query Chats { getChats { edges { cursor } } }"),
            ("query", "Chats".into())
        );
        assert_eq!(
            operation("  mutation Send($c: ID!) { x }"),
            ("mutation", "Send".into())
        );
        assert_eq!(
            operation("subscription { messageAdded { id } }"),
            ("subscription", String::new())
        );
        assert_eq!(operation("{ me { id } }"), ("query", String::new()));
        assert_eq!(
            operation("# a comment\nquery Me { me { id } }"),
            ("query", "Me".into())
        );
    }

    #[test]
    fn introspection_is_told_from_typename() {
        assert!(asks_introspection("{ __schema { types { name } } }"));
        assert!(asks_introspection("{ __type (name: \"Query\") { name } }"));
        assert!(!asks_introspection("{ me { __typename id } }"));
    }

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(label(""), "anonymous");
        assert_eq!(label(&"x".repeat(65)), "other");
        assert_eq!(label("GetChats"), "GetChats");
    }
}
