//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use diaspora::scenario::{Override, Scenario, Template};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the project root.
pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// Loads a scenario with `key=value` overrides.
pub fn load(rel: &str, sets: &[&str]) -> Scenario {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Scenario::load(&path(rel), &overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// Reads a scenario template.
pub fn template(rel: &str) -> Template {
    Template::read(&path(rel)).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes `text` to a scenario file in `dir` and returns its path.
pub fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
