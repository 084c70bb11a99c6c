//! The shape docs/architecture.md describes, checked on the source: the
//! transports call services and nothing below them, every slice with routes
//! has its service layer, stores stay private, every slice error has its
//! row in the HTTP error table, and no file imports in a circle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module of `src/`: its path (`["chat", "service", "messages"]`), and
/// its code without comments, strings and unit tests.
type Modules = BTreeMap<Vec<String>, (PathBuf, String)>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn modules() -> Modules {
    let mut out = Modules::new();
    walk(&src(), &mut Vec::new(), &mut out);
    out
}

fn walk(dir: &Path, at: &mut Vec<String>, out: &mut Modules) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 name")
            .to_owned();
        if path.is_dir() {
            at.push(name);
            walk(&path, at, out);
            at.pop();
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut module = at.clone();
            if !matches!(name.as_str(), "mod" | "lib" | "main") {
                module.push(name);
            }
            let text = std::fs::read_to_string(&path).expect("a readable file");
            out.insert(module, (path, code(&text)));
        }
    }
}

/// `text` without comments, string literals and a trailing `mod tests`.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            // A char literal such as '"' would open a string above.
            '\'' if chars.clone().nth(1) == Some('\'') => {
                chars.next();
                chars.next();
                out.push_str("' '");
            }
            _ => out.push(c),
        }
    }
    out
}

/// A transport: where requests and frames arrive.
fn is_transport(module: &[String]) -> bool {
    let last = module.last().map(String::as_str);
    matches!(last, Some("handlers" | "socket" | "commands" | "ws"))
        || module.iter().rev().nth(1).is_some_and(|m| m == "handlers")
}

#[test]
fn transports_call_services_only() {
    let forbidden = [
        ".begin(",
        "transaction",
        ".work(",
        ".work_one(",
        ".acquire(",
        "store::",
        ".db.",
        "sqlx::",
    ];
    let mut found = Vec::new();
    for (module, (path, code)) in modules() {
        if !is_transport(&module) {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            for f in forbidden.iter().filter(|f| line.contains(*f)) {
                found.push(format!("{}:{}: {f}", path.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "transports reach below the service layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_slice_with_routes_has_a_service_layer() {
    let modules = modules();
    let folders: BTreeSet<Vec<String>> = modules
        .keys()
        .filter(|m| m.last().is_some_and(|l| l == "handlers"))
        .map(|m| m[..m.len() - 1].to_vec())
        .collect();
    assert!(folders.len() >= 10, "found the slices: {folders:?}");
    let missing: Vec<_> = folders
        .iter()
        .filter(|folder| folder.first().is_some_and(|f| f != "http"))
        .filter(|folder| {
            let mut service = (*folder).clone();
            service.push("service".into());
            !modules.contains_key(&service)
        })
        .collect();
    assert!(missing.is_empty(), "slices without a service: {missing:?}");
}

#[test]
fn stores_are_private_to_their_slice() {
    let public: Vec<_> = modules()
        .into_values()
        .filter(|(_, code)| {
            code.lines().any(|l| {
                let l = l.trim();
                l.starts_with("pub") && l.contains("mod ") && l.contains("store")
            })
        })
        .map(|(path, _)| path)
        .collect();
    assert!(public.is_empty(), "a store is public: {public:?}");
}

#[test]
fn every_slice_error_maps_in_the_error_table() {
    let modules = modules();
    let map = &modules[&["http", "error", "map"].map(String::from).to_vec()].1;
    let mut unmapped = Vec::new();
    let mut seen = 0;
    for (module, (_, code)) in &modules {
        if module.last().is_none_or(|l| l != "error") || module.first().is_some_and(|f| f == "http")
        {
            continue;
        }
        for line in code.lines() {
            let Some(rest) = line
                .strip_prefix("pub enum ")
                .or_else(|| line.strip_prefix("pub struct "))
            else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            seen += 1;
            if !map.contains(&format!("impl From<{name}> for ApiError")) {
                unmapped.push(format!("{}::{name}", module.join("::")));
            }
        }
    }
    assert!(seen >= 10, "found {seen} slice errors");
    assert!(
        unmapped.is_empty(),
        "slice errors without a row in http/error/map.rs: {unmapped:?}"
    );
}

#[test]
fn no_file_imports_in_a_circle() {
    let modules = modules();
    let graph: BTreeMap<&Vec<String>, BTreeSet<Vec<String>>> = modules
        .iter()
        .map(|(module, (_, code))| (module, imports(&modules, module, code)))
        .collect();
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "files that import each other in a circle:\n{}",
        cycles
            .iter()
            .map(|c| c.iter().map(|m| m.join("/")).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The check sees imports at all.
    let app = graph[&vec!["app".to_owned()]].len();
    assert!(app >= 10, "app.rs imports {app} files");
}

/// The slices from the bottom up: each may import only those before it.
/// `http` (below every slice), `state` (the context) and `app` (the
/// composition root, above all) are not slices.
const LAYERS: [&str; 16] = [
    "users",
    "files",
    "chat",
    "realtime",
    "notifications",
    "auth",
    "profiles",
    "meditation",
    "projects",
    "payments",
    "fitness",
    "coach",
    "graphql",
    "jobs",
    "health",
    "web",
];

#[test]
fn slices_import_only_downward() {
    let modules = modules();
    let slice = |m: &[String]| {
        m.first()
            .map(String::as_str)
            .filter(|s| !matches!(*s, "http" | "state" | "app"))
            .map(str::to_owned)
    };
    let mut upward = Vec::new();
    for (module, (_, code)) in &modules {
        let Some(from) = slice(module) else { continue };
        let at = LAYERS.iter().position(|l| *l == from);
        assert!(
            at.is_some(),
            "`{from}` is not in LAYERS (and docs/architecture.md)"
        );
        for target in imports(&modules, module, code) {
            let Some(to) = slice(&target) else { continue };
            let to_at = LAYERS.iter().position(|l| *l == to);
            if to != from && to_at >= at {
                upward.push(format!("{} -> {}", module.join("/"), target.join("/")));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports running upward:\n{}",
        upward.join("\n")
    );
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/architecture.md"),
    )
    .expect("docs/architecture.md");
    let order = LAYERS.join(" < ");
    assert!(
        docs.contains(&order),
        "docs/architecture.md should draw `{order}`"
    );
}

/// The files `module` names with `crate::…`, `super::…` and `self::…`
/// paths, in `use` trees or inline.
/// (`super` in `a/b.rs`, module `a::b`, is `a`; in `a/mod.rs`, module `a`,
/// it is the crate.)
fn imports(modules: &Modules, module: &[String], code: &str) -> BTreeSet<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = rest.find(';') else { break };
        expand("", &rest[..end], &mut paths);
    }
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                paths.push(tail[..len].trim_end_matches(':').to_owned());
            }
            rest = &rest[at + start.len()..];
        }
    }
    paths
        .iter()
        .filter_map(|p| resolve(modules, module, p))
        .filter(|target| target.as_slice() != module)
        .collect()
}

/// Every path of a `use` tree (`a::{b, c::{d}}` → `a::b`, `a::c::d`).
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        out.push(format!("{prefix}{path}"));
        return;
    };
    let prefix = format!("{prefix}{}", &tree[..open]);
    let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                push_part(&prefix, &body[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
    push_part(&prefix, &body[start..], out);
}

fn push_part(prefix: &str, part: &str, out: &mut Vec<String>) {
    match part.trim() {
        "" => {}
        "self" => out.push(prefix.trim_end_matches(':').to_owned()),
        part => expand(prefix, part, out),
    }
}

/// The file that defines the longest module `path` names, seen from `module`.
fn resolve(modules: &Modules, module: &[String], path: &str) -> Option<Vec<String>> {
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    let mut full: Vec<String> = match segments.peek().copied() {
        Some("crate") => {
            segments.next();
            Vec::new()
        }
        Some("super" | "self") => {
            let mut base = module.to_vec();
            while let Some(s) = segments.peek().copied() {
                match s {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                segments.next();
            }
            base
        }
        _ => return None,
    };
    full.extend(segments.map(str::to_owned));
    (0..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| modules.contains_key(m))
}

/// Strongly connected components of more than one file (Tarjan).
fn cycles(graph: &BTreeMap<&Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<&'g Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on: BTreeSet<Vec<String>>,
        found: Vec<Vec<Vec<String>>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &Vec<String>) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            self.on.insert(v.clone());
            let next: Vec<Vec<String>> = self.graph.get(v).into_iter().flatten().cloned().collect();
            for w in next {
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let low = self.low[v].min(self.low[&w]);
                    self.low.insert(v.clone(), low);
                } else if self.on.contains(&w) {
                    let low = self.low[v].min(self.index[&w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    let done = &w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(*v) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn the_import_check_finds_a_circle() {
    let modules: Modules = [
        (vec!["a".to_owned()], "use crate::b::Thing;".to_owned()),
        (vec!["b".to_owned()], "fn f() { crate::a::g() }".to_owned()),
        (vec!["c".to_owned()], "use super::a;".to_owned()),
    ]
    .into_iter()
    .map(|(m, code)| (m, (PathBuf::from("x.rs"), code)))
    .collect();
    let graph: BTreeMap<&Vec<String>, BTreeSet<Vec<String>>> = modules
        .iter()
        .map(|(module, (_, code))| (module, imports(&modules, module, code)))
        .collect();
    let found = cycles(&graph);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 2);
}

/// utoipa keys the OpenAPI document's schemas by name and keeps the last
/// of two with the same one, so a second `MarkRead` would silently document
/// the first one's endpoint with the wrong body. Every `ToSchema` type's
/// name (its `#[schema(as = …)]` when given) is unique across the crate.
#[test]
fn openapi_schema_names_are_unique() {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (module, (_, code)) in modules() {
        let mut rest = code.as_str();
        while let Some(at) = rest.find("ToSchema") {
            rest = &rest[at + "ToSchema".len()..];
            // From the derive to the item it is on.
            let item = ["struct ", "enum "]
                .iter()
                .filter_map(|k| rest.find(k).map(|i| (i, k.len())))
                .min();
            let Some((i, len)) = item else { break };
            let attrs = &rest[..i];
            let ident: String = rest[i + len..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let name = attrs
                .find("as = ")
                .map(|a| {
                    attrs[a + 5..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect::<String>()
                })
                .unwrap_or(ident);
            seen.entry(name).or_default().push(module.join("::"));
            rest = &rest[i + len..];
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "OpenAPI schema names used by more than one type (rename one, or #[schema(as = …)]): {twice:?}"
    );
}
