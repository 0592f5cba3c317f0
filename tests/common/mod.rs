//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use diaspora::ensemble::EnsembleResult;
use diaspora::observe::Sex;
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

/// Value of `(series, place, sex)` in `year` for replicate `rep` of a run; `None` if the run
/// has no such row (nothing counted).
pub fn value(
    r: &EnsembleResult,
    rep: usize,
    year: i32,
    series: &str,
    place: &str,
    sex: Sex,
) -> Option<f64> {
    let layout = &r.plan.layout;
    let s = layout
        .series
        .iter()
        .position(|n| n == series)
        .unwrap_or_else(|| panic!("no series {series}"));
    let p = layout
        .places
        .iter()
        .position(|n| n == place)
        .unwrap_or_else(|| panic!("no place {place}"));
    r.replicates[rep]
        .iter()
        .find(|row| {
            row.year == year
                && usize::from(row.series) == s
                && usize::from(row.place) == p
                && row.sex == sex
        })
        .map(|row| row.value)
}

/// The rows of a `fit.csv` in file order, each a map column → cell.
pub fn fit_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The row of `fit.csv` for `series`, `place`, `sex`.
pub fn fit_row<'a>(
    rows: &'a [std::collections::BTreeMap<String, String>],
    series: &str,
    place: &str,
    sex: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["series"] == series && r["place"] == place && r["sex"] == sex)
        .unwrap_or_else(|| panic!("no row {series} {place} {sex} in {rows:?}"))
}
