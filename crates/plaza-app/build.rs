//! Embeds `migrations/` (at the workspace root) into the binary.
//!
//! A migration is `<version>_<name>.up.sql` and `<version>_<name>.down.sql`,
//! portable SQL run on both databases; `….up.sqlite.sql` or
//! `….up.postgres.sql` (and the same for down) replace the portable file on
//! that database where the SQL must differ.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Default)]
struct Files {
    name: String,
    scripts: BTreeMap<String, PathBuf>,
}

fn main() -> Result<(), String> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let dir = Path::new(&manifest).join("../../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let out = render(&read(&dir)?)?;
    let out_dir = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    std::fs::write(Path::new(&out_dir).join("migrations.rs"), out).map_err(|e| e.to_string())?;
    Ok(())
}

/// Every migration's scripts in `dir`, by version.
fn read(dir: &Path) -> Result<BTreeMap<i64, Files>, String> {
    let mut migrations: BTreeMap<i64, Files> = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let (version_name, kind) = stem
            .split_once('.')
            .ok_or_else(|| format!("{file}: expected <version>_<name>.up.sql or .down.sql"))?;
        let (version, name) = version_name
            .split_once('_')
            .ok_or_else(|| format!("{file}: expected <version>_<name>"))?;
        let version: i64 = version
            .parse()
            .map_err(|_| format!("{file}: version must be a number"))?;
        if !matches!(
            kind,
            "up" | "down" | "up.sqlite" | "up.postgres" | "down.sqlite" | "down.postgres"
        ) {
            return Err(format!("{file}: unknown kind `{kind}`"));
        }
        let files = migrations.entry(version).or_default();
        if !files.name.is_empty() && files.name != name {
            return Err(format!(
                "version {version} has two names: {} and {name}",
                files.name
            ));
        }
        files.name = name.to_owned();
        files.scripts.insert(
            kind.to_owned(),
            path.canonicalize().map_err(|e| e.to_string())?,
        );
    }
    Ok(migrations)
}

/// The `&[Migration]` literal the crate includes.
fn render(migrations: &BTreeMap<i64, Files>) -> Result<String, String> {
    let mut out = String::from("&[\n");
    for (version, files) in migrations {
        let pick = |direction: &str, backend: &str| -> Result<String, String> {
            files
                .scripts
                .get(&format!("{direction}.{backend}"))
                .or_else(|| files.scripts.get(direction))
                .map(|p| format!("include_str!({:?})", p.display().to_string()))
                .ok_or_else(|| {
                    format!("migration {version} has no {direction} script for {backend}")
                })
        };
        writeln!(
            out,
            "    plaza_platform::db::Migration {{ version: {version}, name: {:?}, \
             up: plaza_platform::db::Script {{ sqlite: {}, postgres: {} }}, \
             down: plaza_platform::db::Script {{ sqlite: {}, postgres: {} }} }},",
            files.name,
            pick("up", "sqlite")?,
            pick("up", "postgres")?,
            pick("down", "sqlite")?,
            pick("down", "postgres")?,
        )
        .map_err(|e| e.to_string())?;
    }
    out.push(']');
    Ok(out)
}
