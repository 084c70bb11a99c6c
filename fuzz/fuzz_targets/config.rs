//! The configuration: a `plaza.toml` and `PLAZA_*` variables (after the
//! first NUL byte, one `NAME=value` per line). Any input is a configuration
//! or a list of problems, each naming its key — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plaza_platform::config::{Config, EnvVars};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (toml, env) = text.split_once('\0').unwrap_or((&text, ""));
    let vars = env.lines().filter_map(|line| {
        let (name, value) = line.split_once('=')?;
        Some((format!("PLAZA_{name}"), value.to_owned()))
    });
    if let Err(problems) = Config::parse(toml, EnvVars::new(vars)) {
        assert!(!problems.0.is_empty());
        assert!(problems.0.iter().all(|p| !p.key.is_empty()), "{problems}");
    }
});
