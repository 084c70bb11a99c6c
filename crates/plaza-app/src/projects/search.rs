//! Browsing and full-text search (`GET /api/projects`). Words are matched by
//! prefix in the title, the skills and the description — SQLite FTS5 ranked
//! by bm25 (title 10, skills 5, description 1), PostgreSQL a weighted
//! `tsvector` ranked by `ts_rank` (title and skills A, description B) — the
//! one place the two databases need their own SQL. Filters and sorting are
//! one SQL text for both.

use plaza_core::UserId;
use plaza_platform::db::{Backend, placeholders};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ProjectsError, invalid};
use super::model::{Project, Status};
use super::store::{ProjectRow, project_columns};
use crate::http::AuthUser;
use crate::state::AppState;

/// Words of a query at most; more are refused.
const MAX_WORDS: usize = 10;
/// The deepest page: past it, narrow the search.
const MAX_OFFSET: u32 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest first (the default without `q`).
    Newest,
    /// The highest budget first (projects without one last).
    Budget,
    /// Best match first (the default with `q`; needs `q`).
    Relevance,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (each as a prefix, all of them) in the title, skills
    /// and description.
    q: Option<String>,
    /// Default `open`. `draft` and `archived` list only my own.
    status: Option<String>,
    /// Any of these skills, comma-separated (`rust,postgres`).
    skills: Option<String>,
    /// Pays at least this much (minor units): the budget's top.
    budget_min: Option<i64>,
    /// Asks at most this much (minor units): the budget's bottom.
    budget_max: Option<i64>,
    /// Only budgets in this currency (ISO 4217).
    currency: Option<String>,
    /// Only this owner's projects.
    owner_id: Option<String>,
    /// `newest`, `budget` or `relevance`.
    #[param(inline)]
    sort: Option<Sort>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
    /// Default 0, at most 10 000.
    offset: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<Project>,
    pub total: i64,
    pub has_more: bool,
}

/// The words of `q`: runs of letters and digits, lower-cased.
fn words(q: &str) -> Result<Vec<String>, ProjectsError> {
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Err(invalid("q", "no words to search for"));
    }
    if words.len() > MAX_WORDS {
        return Err(invalid("q", format!("at most {MAX_WORDS} words")));
    }
    Ok(words)
}

/// A bound value of the dynamic SQL.
enum Arg {
    Text(String),
    Int(i64),
}

/// WHERE clauses and their values, numbered as they are added.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    /// The next placeholder for `arg`.
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    fn clause(&mut self, sql: String) {
        self.clauses.push(sql);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "TRUE".to_owned()
        } else {
            self.clauses.join(" AND ")
        }
    }
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    args: &'q [Arg],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    for arg in args {
        query = match arg {
            Arg::Text(s) => query.bind(s.as_str()),
            Arg::Int(n) => query.bind(*n),
        };
    }
    query
}

/// Projects matching `query`, as `me` (anyone) may list them: open ones
/// by default, drafts and archives only one's own.
#[tracing::instrument(skip(state, me))]
pub async fn search(
    state: &AppState,
    me: Option<AuthUser>,
    query: &SearchQuery,
    limit: i64,
) -> Result<ProjectPage, ProjectsError> {
    let offset = query.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(invalid("offset", format!("at most {MAX_OFFSET}")));
    }
    let words = query.q.as_deref().map(words).transpose()?;
    let sort = query.sort.unwrap_or(if words.is_some() {
        Sort::Relevance
    } else {
        Sort::Newest
    });
    if sort == Sort::Relevance && words.is_none() {
        return Err(invalid("sort", "relevance needs `q`"));
    }
    let status = wanted_status(query.status.as_deref())?;
    let mut filter = Filter::default();
    let backend = state.db.backend();
    let (source, rank) = match &words {
        Some(words) => {
            let (source, rank) = matching(&mut filter, words, backend);
            (source, Some(rank))
        }
        None => ("projects".to_owned(), None),
    };
    narrow(&mut filter, query, status, me.as_ref())?;
    let order = order(sort, rank.as_deref(), backend);
    let from = format!("FROM {source} WHERE {}", filter.sql());
    let mut conn = state.db.reader().acquire().await?;
    let (items, total) = page(&mut conn, &from, &order, &filter, (limit, offset)).await?;
    Ok(ProjectPage {
        has_more: i64::from(offset) + (items.len() as i64) < total,
        items,
        total,
    })
}

/// The status a search asks for: open unless it names one.
fn wanted_status(given: Option<&str>) -> Result<Status, ProjectsError> {
    let Some(given) = given else {
        return Ok(Status::Open);
    };
    Status::parse(given).ok_or_else(|| {
        invalid(
            "status",
            "one of draft, open, in_progress, completed, cancelled, archived",
        )
    })
}

/// One page of what `from` selects, in `order`, and how many there are.
async fn page(
    conn: &mut sqlx::AnyConnection,
    from: &str,
    order: &str,
    filter: &Filter,
    (limit, offset): (i64, u32),
) -> Result<(Vec<Project>, i64), sqlx::Error> {
    let n = filter.args.len();
    let select = format!(
        "SELECT {} {from} ORDER BY {order} LIMIT ${} OFFSET ${}",
        project_columns!(),
        n + 1,
        n + 2
    );
    let count = format!("SELECT CAST(COUNT(*) AS BIGINT) {from}");
    let rows: Vec<ProjectRow> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(select)), &filter.args)
        .bind(limit)
        .bind(i64::from(offset))
        .fetch_all(&mut *conn)
        .await?;
    let (total,): (i64,) = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(count)), &filter.args)
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Adds the full-text match of `words` to `filter`: the FROM source and
/// the rank expression to order by (ascending).
fn matching(filter: &mut Filter, words: &[String], backend: Backend) -> (String, String) {
    match backend {
        Backend::Sqlite => {
            let matched: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
            let p = filter.arg(Arg::Text(matched.join(" ")));
            // The matches come out of FTS5 already in rank order, and CROSS
            // JOIN keeps them the outer loop, so a page stops after its
            // rows instead of sorting every match (0.03 s instead of 0.25 s
            // for a word in 9 000 of 100 000 projects); left to itself,
            // SQLite may even scan projects and run the MATCH per row.
            let source = format!(
                "(SELECT rowid AS hit, rank FROM projects_fts WHERE projects_fts MATCH {p} \
                 AND rank MATCH 'bm25(10.0, 5.0, 1.0)' ORDER BY rank) f CROSS JOIN projects"
            );
            filter.clause("projects.rowid = f.hit".to_owned());
            (source, "f.rank".to_owned())
        }
        Backend::Postgres => {
            let matched: Vec<String> = words.iter().map(|w| format!("{w}:*")).collect();
            let p = filter.arg(Arg::Text(matched.join(" & ")));
            filter.clause(format!("search @@ to_tsquery('simple', {p})"));
            let rank = format!("-ts_rank(search, to_tsquery('simple', {p}))");
            ("projects".to_owned(), rank)
        }
    }
}

/// Adds the status (drafts and archives only one's own), owner, skills,
/// budget and currency filters.
fn narrow(
    filter: &mut Filter,
    query: &SearchQuery,
    status: Status,
    me: Option<&AuthUser>,
) -> Result<(), ProjectsError> {
    let p = filter.arg(Arg::Text(status.as_str().to_owned()));
    filter.clause(format!("status = {p}"));
    if matches!(status, Status::Draft | Status::Archived) && !me.is_some_and(AuthUser::is_admin) {
        // Only my own; nobody's when signed out.
        let mine = me.map(|m| m.user_id.to_string()).unwrap_or_default();
        let p = filter.arg(Arg::Text(mine));
        filter.clause(format!("owner_id = {p}"));
    }
    if let Some(owner) = &query.owner_id {
        let owner: UserId = owner
            .parse()
            .map_err(|_| invalid("owner_id", "a user id"))?;
        let p = filter.arg(Arg::Text(owner.to_string()));
        filter.clause(format!("owner_id = {p}"));
    }
    if let Some(skills) = &query.skills {
        let given: Vec<String> = skills.split(',').map(str::to_owned).collect();
        let skills = super::rules::skills("skills", &given)?;
        let first = filter.args.len() + 1;
        for skill in &skills {
            filter.arg(Arg::Text(skill.clone()));
        }
        filter.clause(format!(
            "id IN (SELECT project_id FROM project_skills WHERE skill IN ({}))",
            placeholders(first, skills.len())
        ));
    }
    if let Some(min) = query.budget_min {
        let p = filter.arg(Arg::Int(min));
        filter.clause(format!("COALESCE(budget_max, budget_min) >= {p}"));
    }
    if let Some(max) = query.budget_max {
        let p = filter.arg(Arg::Int(max));
        filter.clause(format!("COALESCE(budget_min, budget_max) <= {p}"));
    }
    if let Some(currency) = &query.currency {
        let currency = plaza_core::Currency::parse(currency)
            .map_err(|e| invalid("currency", e.to_string()))?;
        let p = filter.arg(Arg::Text(currency.to_string()));
        filter.clause(format!("currency = {p}"));
    }
    Ok(())
}

/// The ORDER BY of a sort.
fn order(sort: Sort, rank: Option<&str>, backend: Backend) -> String {
    match (sort, rank) {
        // Ties stay in FTS5's order on SQLite: a second key would make it
        // sort every match again.
        (Sort::Relevance, Some(rank)) if backend == Backend::Sqlite => rank.to_owned(),
        (Sort::Relevance, Some(rank)) => format!("{rank}, created_at DESC, id DESC"),
        (Sort::Budget, _) => "(COALESCE(budget_max, budget_min) IS NULL), \
             COALESCE(budget_max, budget_min) DESC, created_at DESC, id DESC"
            .to_owned(),
        _ => "created_at DESC, id DESC".to_owned(),
    }
}
