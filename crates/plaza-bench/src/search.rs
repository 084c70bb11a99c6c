//! Project search (issue 7): `seed` writes N open projects — titles,
//! descriptions and skills drawn by a seeded generator, so every run
//! searches the same corpus — into plaza's
//! database through its own migrations (SQLite in a given data directory,
//! or `PLAZA_DATABASE_URL`); `run` then drives `GET /api/projects` at a
//! running plaza with full-text queries, and with filtered browsing.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::drive::{Step, drive};

const WORDS: [&str; 64] = [
    "api",
    "backend",
    "frontend",
    "mobile",
    "payments",
    "search",
    "chat",
    "dashboard",
    "analytics",
    "pipeline",
    "migration",
    "integration",
    "marketplace",
    "booking",
    "delivery",
    "inventory",
    "billing",
    "invoice",
    "crm",
    "portal",
    "scraper",
    "bot",
    "game",
    "shop",
    "landing",
    "redesign",
    "audit",
    "refactor",
    "performance",
    "security",
    "testing",
    "deploy",
    "cloud",
    "server",
    "database",
    "cache",
    "queue",
    "stream",
    "realtime",
    "notifications",
    "maps",
    "video",
    "audio",
    "images",
    "upload",
    "export",
    "import",
    "report",
    "calendar",
    "schedule",
    "fitness",
    "meditation",
    "education",
    "health",
    "finance",
    "travel",
    "music",
    "news",
    "social",
    "events",
    "weather",
    "sports",
    "recipes",
    "pets",
];

const SKILLS: [&str; 32] = [
    "rust",
    "go",
    "python",
    "java",
    "kotlin",
    "swift",
    "typescript",
    "javascript",
    "react",
    "vue",
    "angular",
    "node.js",
    "django",
    "rails",
    "php",
    "laravel",
    "postgresql",
    "mysql",
    "mongodb",
    "redis",
    "kafka",
    "rabbitmq",
    "docker",
    "kubernetes",
    "aws",
    "gcp",
    "terraform",
    "figma",
    "css",
    "graphql",
    "flutter",
    "c++",
];

/// Filler words are three of these syllables: 8 000 words, each rare.
const SYLLABLES: [&str; 20] = [
    "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "do", "ga", "hu", "ji", "be", "fo", "za",
    "qu", "xe", "wy", "cy",
];

/// A small xorshift generator: the same corpus every run, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    /// `common` words of [`WORDS`] (what people search for) among
    /// `filler` rare ones, shuffled in.
    fn text(&mut self, common: usize, filler: usize) -> String {
        let mut words: Vec<String> = (0..common).map(|_| self.pick(&WORDS).to_owned()).collect();
        for _ in 0..filler {
            let word: String = (0..3).map(|_| self.pick(&SYLLABLES)).collect();
            let at = (self.next() % (words.len() as u64 + 1)) as usize;
            words.insert(at, word);
        }
        words.join(" ")
    }
}

/// Rows per INSERT statement.
const BATCH: usize = 500;

pub async fn seed(data_dir: PathBuf, projects: usize) -> anyhow::Result<()> {
    let (state, _) = crate::in_process("search", |c| c.data_dir = data_dir).await?;
    let started = Instant::now();
    let owner = "00000000-0000-7000-8000-000000000001";
    sqlx::query(
        "INSERT INTO users (id, email, username, created_at, updated_at) \
         VALUES ($1, 'owner@bench.test', 'owner', $2, $2)",
    )
    .bind(owner)
    .bind("2026-01-01T00:00:00.000000Z")
    .execute(state.db.writer())
    .await?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut done = 0;
    while done < projects {
        let n = BATCH.min(projects - done);
        let mut rows = Vec::with_capacity(n);
        let mut skill_rows = Vec::with_capacity(n * 3);
        for i in done..done + n {
            let id = format!("00000000-0000-7000-9000-{i:012}");
            let mut skills: Vec<&str> = (0..3).map(|_| rng.pick(&SKILLS)).collect();
            skills.sort_unstable();
            skills.dedup();
            let budget = 10_000 + (rng.next() % 100) as i64 * 10_000;
            let at = format!(
                "2026-{:02}-{:02}T12:00:00.{:06}Z",
                1 + i % 12,
                1 + i % 28,
                i % 1_000_000
            );
            for s in &skills {
                skill_rows.push((id.clone(), (*s).to_owned()));
            }
            rows.push((
                id,
                rng.text(2, 2),
                rng.text(4, 36),
                skills.join(","),
                budget,
                at,
            ));
        }
        let mut tx = state.db.begin().await?;
        let values: Vec<String> = (0..rows.len())
            .map(|r| {
                let b = r * 7;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, NULL, ${}, 'USD', 'open', 0, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 7
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO projects (id, owner_id, title, description, skills, budget_min, \
             budget_max, currency, status, responses_count, created_at, updated_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, title, description, skills, budget, at) in &rows {
            query = query
                .bind(id)
                .bind(owner)
                .bind(title)
                .bind(description)
                .bind(skills)
                .bind(*budget)
                .bind(at);
        }
        query.execute(&mut *tx).await?;
        let values: Vec<String> = (0..skill_rows.len())
            .map(|r| format!("(${}, ${})", r * 2 + 1, r * 2 + 2))
            .collect();
        let sql = format!(
            "INSERT INTO project_skills (project_id, skill) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, skill) in &skill_rows {
            query = query.bind(id).bind(skill);
        }
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        done += n;
    }
    if state.db.backend() == plaza_platform::db::Backend::Postgres {
        // This cluster runs without autovacuum: give the planner statistics.
        sqlx::query("ANALYZE").execute(state.db.writer()).await?;
    }
    println!(
        "database={} projects={projects} seed_seconds={:.1}",
        state.db.backend().name(),
        started.elapsed().as_secs_f64()
    );
    state.shutdown.halt();
    Ok(())
}

/// The queries driven, in turn: a word, two words, a word with a skill
/// filter — each ranked by relevance.
fn search_queries() -> Vec<String> {
    let mut rng = Rng(42);
    (0..256)
        .map(|i| match i % 3 {
            0 => format!("q={}", rng.pick(&WORDS)),
            1 => format!("q={}+{}", rng.pick(&WORDS), rng.pick(&WORDS)),
            _ => format!("q={}&skills={}", rng.pick(&WORDS), rng.pick(&SKILLS)),
        })
        .collect()
}

/// Browsing without words: a skill or two, a budget floor, sorted.
fn browse_queries() -> Vec<String> {
    let mut rng = Rng(7);
    (0..256)
        .map(|i| match i % 2 {
            0 => format!(
                "skills={},{}&sort=budget",
                rng.pick(&SKILLS),
                rng.pick(&SKILLS)
            ),
            _ => format!(
                "budget_min={}&currency=USD",
                100_000 + (rng.next() % 8) * 100_000
            ),
        })
        .collect()
}

pub async fn run(base: String, connections: usize, duration: Duration) -> anyhow::Result<()> {
    let client = crate::client(connections)?;
    for (name, queries) in [("search", search_queries()), ("browse", browse_queries())] {
        let queries = Arc::new(queries);
        let turn = Arc::new(AtomicUsize::new(0));
        let report = drive(connections, duration, |_| {
            let (client, base, queries, turn) =
                (client.clone(), base.clone(), queries.clone(), turn.clone());
            Box::new(move || -> Step {
                let i = turn.fetch_add(1, Ordering::Relaxed) % queries.len();
                let url = format!("{base}/api/projects?{}", queries[i]);
                let client = client.clone();
                Box::pin(async move {
                    match client.get(url).send().await {
                        Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                        Err(_) => false,
                    }
                })
            })
        })
        .await?;
        println!("{name}: {report}");
    }
    Ok(())
}
