//! The sweep design file: which scenario, which parameters over which ranges or values, how the
//! points are chosen, how many replicates, the master seed, and what results to keep.
//!
//! Parse → validate, as for scenarios: [`RawDesign`] mirrors the file (unknown keys refused),
//! [`Design::read`] checks every value and locates each problem as
//! `file:line:col: key.path: expected …, found …`. Whether the parameter *paths* exist in the
//! scenario, and whether every point gives a valid scenario, is checked when the sweep is
//! planned ([`super::plan()`]), before anything runs.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::keep::{self, Keep};
use super::morris::{self, MorrisSettings};
use super::saltelli::{self, SaltelliSettings};
use crate::scenario::{Location, ScenarioError, SourceFile, Sources, deserialize};

/// How the points of a sweep are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Every combination of the parameters' levels or values (the first parameter varies
    /// slowest).
    Grid,
    /// Explicit points: the i-th value of every parameter, or the rows of a CSV file.
    List,
    /// Latin hypercube: every parameter's range cut into `points` equal strata, each hit once.
    Lhs,
    /// Scrambled Sobol sequence (hash-based Owen scrambling, seeded by the master seed).
    Sobol,
    /// Morris trajectories for elementary effects (settings in `[morris]`).
    Morris,
    /// Saltelli's A, B and A_B matrices for Sobol indices (settings in `[saltelli]`).
    Saltelli,
}

impl Method {
    /// Name as written in the design.
    pub fn name(self) -> &'static str {
        match self {
            Method::Grid => "grid",
            Method::List => "list",
            Method::Lhs => "lhs",
            Method::Sobol => "sobol",
            Method::Morris => "morris",
            Method::Saltelli => "saltelli",
        }
    }
}

/// What each run contributes to `results.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outputs {
    /// Fit metrics against the observed data only.
    #[default]
    Fit,
    /// Fit metrics and the simulated values of every series that has an observed twin.
    Series,
}

impl Outputs {
    /// Name as written in the design.
    pub fn name(self) -> &'static str {
        match self {
            Outputs::Fit => "fit",
            Outputs::Series => "series",
        }
    }
}

/// How a merge writes the results: the long `results.csv`, or the Parquet tables `runs`,
/// `fit`, `kept` and `series` ([`super::tables`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `results.csv`.
    #[default]
    Csv,
    /// `results/{runs, fit, kept, series}.parquet`.
    Parquet,
}

impl Format {
    /// Name as written in the design.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// Spacing of a range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Uniform in the value.
    #[default]
    Linear,
    /// Uniform in the logarithm of the value (both ends must be positive).
    Log,
}

/// The file as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDesign {
    /// Scenario file, relative to the design file.
    pub scenario: String,
    /// Sweep name (default: the design file's stem).
    pub name: Option<String>,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// How points are chosen.
    pub method: Method,
    /// Number of points (`lhs` and `sobol` only).
    pub points: Option<i64>,
    /// CSV of points (`list` only), relative to the design file.
    pub points_file: Option<String>,
    /// Replicates per point (default 1).
    pub replicates: Option<i64>,
    /// Master seed (default 0).
    pub seed: Option<i64>,
    /// What to keep (default `fit`).
    #[serde(default)]
    pub outputs: Outputs,
    /// How `diaspora sweep merge` writes the results (default `csv`).
    #[serde(default)]
    pub format: Format,
    /// Observed data folder, relative to the design file (default: `data/observed` relative to
    /// the current folder).
    pub observed: Option<String>,
    /// Years compared with the observed data, `[first, last]` (default: all).
    pub years: Option<[i32; 2]>,
    /// The swept parameters, in column order.
    #[serde(default)]
    pub parameters: Vec<RawParameter>,
    /// Series and fit measures kept per run (see [`keep`]).
    #[serde(default)]
    pub keep: Vec<String>,
    /// Every point gets the same replicate seeds (default: independent seeds per point).
    pub common_random_numbers: Option<bool>,
    /// Settings of method `morris`.
    pub morris: Option<RawMorris>,
    /// Settings of method `saltelli`.
    pub saltelli: Option<RawSaltelli>,
}

/// The `[morris]` table as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMorris {
    /// Trajectories `r`.
    pub trajectories: i64,
    /// Grid levels `p` (default 4).
    pub levels: Option<i64>,
    /// Random candidates for the optimised choice of the `r` trajectories.
    pub candidates: Option<i64>,
}

/// The `[saltelli]` table as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSaltelli {
    /// Base points `N`.
    pub base_points: i64,
    /// Include the `B_A` points for second-order indices (default false).
    pub second_order: Option<bool>,
}

/// One `[[parameters]]` entry as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawParameter {
    /// Scenario key path, as for `--set`.
    pub path: String,
    /// Lower end of a range.
    pub min: Option<f64>,
    /// Upper end of a range.
    pub max: Option<f64>,
    /// Spacing of a range (default `linear`).
    pub scale: Option<Scale>,
    /// Levels of a range on a grid (ends included).
    pub levels: Option<i64>,
    /// Explicit values (numbers or booleans).
    #[schemars(with = "Option<Vec<SweptValue>>")]
    pub values: Option<Vec<Value>>,
}

/// A swept value as the schema describes it (the parser reads any TOML value and checks it).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SweptValue {
    /// A number.
    Number(f64),
    /// A boolean (e.g. an event switched on or off).
    Bool(bool),
}

/// The values a parameter takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// A continuous range.
    Range {
        /// Lower end.
        min: f64,
        /// Upper end (greater than `min`).
        max: f64,
        /// Spacing.
        scale: Scale,
        /// Grid levels (grid only).
        levels: Option<usize>,
    },
    /// Explicit values (numbers or booleans).
    Values(Vec<Value>),
}

impl Domain {
    /// The value at `u` in [0, 1]: a point of the range (its ends exactly at 0 and 1), or the
    /// value of stratum ⌊u·k⌋ (the last value at 1).
    pub fn at(&self, u: f64) -> Value {
        match self {
            Domain::Range { min, .. } if u == 0.0 => number(*min),
            Domain::Range { max, .. } if u == 1.0 => number(*max),
            Domain::Range {
                min, max, scale, ..
            } => number(scaled(*min, *max, *scale, u)),
            Domain::Values(v) => {
                let i = ((u * v.len() as f64) as usize).min(v.len() - 1);
                v[i].clone()
            }
        }
    }

    /// The grid levels: values, or `levels` points from `min` to `max` (ends exact).
    pub fn levels(&self) -> Vec<Value> {
        match self {
            Domain::Values(v) => v.clone(),
            Domain::Range {
                min,
                max,
                scale,
                levels,
            } => {
                let k = levels.unwrap_or(2);
                (0..k)
                    .map(|i| match i {
                        0 => number(*min),
                        i if i == k - 1 => number(*max),
                        i => number(scaled(*min, *max, *scale, i as f64 / (k - 1) as f64)),
                    })
                    .collect()
            }
        }
    }

    /// Number of grid levels.
    pub fn len(&self) -> usize {
        match self {
            Domain::Values(v) => v.len(),
            Domain::Range { levels, .. } => levels.unwrap_or(2),
        }
    }

    /// Whether there are no values (never true for a validated design).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn scaled(min: f64, max: f64, scale: Scale, u: f64) -> f64 {
    match scale {
        Scale::Linear => min + u * (max - min),
        Scale::Log => (min.ln() + u * (max.ln() - min.ln())).exp(),
    }
}

fn number(x: f64) -> Value {
    Value::Float(x)
}

/// A swept parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// Scenario key path.
    pub path: String,
    /// Its values.
    pub domain: Domain,
}

/// Where the points of a `list` design come from.
#[derive(Clone, Debug, PartialEq)]
pub enum ListSource {
    /// The parameters' `values`, zipped.
    Values,
    /// A CSV file whose header names the parameter paths.
    File(PathBuf),
}

/// A validated design.
#[derive(Clone, Debug)]
pub struct Design {
    /// The design file as named by the user.
    pub file: PathBuf,
    /// Sweep name.
    pub name: String,
    /// One line.
    pub description: String,
    /// Scenario file (relative paths resolved against the design's folder).
    pub scenario: PathBuf,
    /// How points are chosen.
    pub method: Method,
    /// Number of points for `lhs` and `sobol`.
    pub points: Option<usize>,
    /// For `list`: where the points come from.
    pub list: Option<ListSource>,
    /// Replicates per point.
    pub replicates: u32,
    /// Master seed.
    pub seed: u64,
    /// What to keep.
    pub outputs: Outputs,
    /// How the merge writes the results.
    pub format: Format,
    /// Observed data folder.
    pub observed: PathBuf,
    /// Compared years.
    pub years: Option<[i32; 2]>,
    /// The swept parameters (declared order; for `list` with a file, the CSV header's order).
    pub parameters: Vec<Parameter>,
    /// What is kept per run beside the fit.
    pub keep: Vec<Keep>,
    /// Whether every point gets the same replicate seeds.
    pub common_random_numbers: bool,
    /// Method `morris`: its settings.
    pub morris: Option<MorrisSettings>,
    /// Method `saltelli`: its settings.
    pub saltelli: Option<SaltelliSettings>,
    /// Where every key of the design came from (for located errors).
    pub sources: Sources,
}

/// Most runs (points × replicates) a sweep may plan.
pub const MAX_RUNS: u64 = 10_000_000;

/// Most points of a Sobol design (the sequence's 16-bit index).
pub const MAX_SOBOL_POINTS: usize = 1 << 16;

/// Scenario paths a sweep sets itself.
const RESERVED: [&str; 2] = ["run.seed", "run.replicates"];

impl Design {
    /// Reads and validates the design at `path`.
    pub fn read(path: &Path) -> Result<Design, ScenarioError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            location: Location::FileOnly(name.clone()),
            path: String::new(),
            message: format!("cannot read sweep design: {e}"),
        })?;
        let source = SourceFile::new(name.clone(), text)?;
        let table: Table = toml::from_str(&source.text).map_err(|e| ScenarioError {
            location: Location::FileOnly(name.clone()),
            path: String::new(),
            message: format!("invalid TOML: {}", e.message()),
        })?;
        let sources = Sources {
            files: vec![source],
            sets: Vec::new(),
        };
        let raw: RawDesign = deserialize(table, &sources)?;
        validate(path, raw, sources)
    }

    /// An error at `key` of the design.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        self.sources.error(key, message)
    }

    /// Number of points the design expands to.
    pub fn point_count(&self) -> u64 {
        match (self.method, &self.list) {
            (Method::Grid, _) => self
                .parameters
                .iter()
                .map(|p| p.domain.len() as u64)
                .fold(1u64, |a, b| a.saturating_mul(b)),
            (Method::List, Some(ListSource::Values)) => {
                self.parameters.first().map_or(0, |p| p.domain.len() as u64)
            }
            (Method::List, _) => 0, // known once the file is read
            (Method::Morris, _) => self.morris.map_or(0, |m| {
                (m.trajectories as u64).saturating_mul(self.parameters.len() as u64 + 1)
            }),
            (Method::Saltelli, _) => self.saltelli.map_or(0, |s| {
                (s.base_points as u64).saturating_mul(s.block(self.parameters.len()) as u64)
            }),
            _ => self.points.unwrap_or(0) as u64,
        }
    }
}

fn validate(file: &Path, raw: RawDesign, sources: Sources) -> Result<Design, ScenarioError> {
    let err = |key: &str, message: String| sources.error(key, message);
    let base = file.parent().unwrap_or(Path::new(""));
    let relative = |p: &str| base.join(p);

    let name = match raw.name {
        Some(n) => {
            crate::scenario::limits::check_name(&sources, "name", &n)?;
            n
        }
        None => file
            .file_stem()
            .map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned()),
    };
    if raw.scenario.trim().is_empty() {
        return Err(err(
            "scenario",
            "expected a scenario file path, found \"\"".into(),
        ));
    }

    let points = match (raw.method, raw.points) {
        (Method::Lhs | Method::Sobol, None) => {
            return Err(err(
                "points",
                format!(
                    "missing required key `points` (method \"{}\" needs the number of points)",
                    raw.method.name()
                ),
            ));
        }
        (Method::Lhs | Method::Sobol, Some(n)) if n < 1 => {
            return Err(err(
                "points",
                format!("expected at least 1 point, found {n}"),
            ));
        }
        (Method::Sobol, Some(n)) if n as u64 > MAX_SOBOL_POINTS as u64 => {
            return Err(err(
                "points",
                format!("expected at most {MAX_SOBOL_POINTS} Sobol points, found {n}"),
            ));
        }
        (Method::Lhs | Method::Sobol, Some(n)) => Some(n as usize),
        (Method::Grid | Method::List, Some(_)) => {
            return Err(err(
                "points",
                format!(
                    "method \"{}\" takes its points from the parameters: remove `points`",
                    raw.method.name()
                ),
            ));
        }
        (Method::Morris | Method::Saltelli, Some(_)) => {
            let m = raw.method.name();
            let key = if raw.method == Method::Morris {
                "trajectories"
            } else {
                "base_points"
            };
            return Err(err(
                "points",
                format!("method \"{m}\" takes its points from [{m}] {key}: remove `points`"),
            ));
        }
        (Method::Grid | Method::List | Method::Morris | Method::Saltelli, None) => None,
    };
    let (morris, saltelli) = method_settings(raw.method, &raw.morris, &raw.saltelli, &sources)?;
    let keep = keeps(&raw.keep, &sources)?;

    if raw.points_file.is_some() && raw.method != Method::List {
        return Err(err(
            "points_file",
            format!(
                "`points_file` is for method \"list\", found method \"{}\"",
                raw.method.name()
            ),
        ));
    }

    let replicates = raw.replicates.unwrap_or(1);
    if !(1..=i64::from(u32::MAX)).contains(&replicates) {
        return Err(err(
            "replicates",
            format!("expected at least 1 replicate, found {replicates}"),
        ));
    }
    let seed = raw.seed.unwrap_or(0);
    if seed < 0 {
        return Err(err(
            "seed",
            format!("expected a seed in 0..=2^63-1, found {seed}"),
        ));
    }
    if let Some([a, b]) = raw.years
        && a > b
    {
        return Err(err(
            "years",
            format!("expected [first, last] with first <= last, found [{a}, {b}]"),
        ));
    }

    let list = match (raw.method, &raw.points_file) {
        (Method::List, Some(f)) => {
            if !raw.parameters.is_empty() {
                return Err(err(
                    "parameters",
                    "with `points_file` the parameters are the CSV's columns: remove [[parameters]]"
                        .into(),
                ));
            }
            Some(ListSource::File(relative(f)))
        }
        (Method::List, None) => Some(ListSource::Values),
        _ => None,
    };

    if raw.parameters.is_empty() && !matches!(list, Some(ListSource::File(_))) {
        return Err(err(
            "parameters",
            "expected at least one [[parameters]] entry, found none".into(),
        ));
    }

    let mut parameters: Vec<Parameter> = Vec::new();
    for (i, p) in raw.parameters.into_iter().enumerate() {
        let key = |k: &str| format!("parameters.{i}.{k}");
        let param = parameter(p, i, raw.method, &sources)?;
        if let Some(j) = parameters.iter().position(|q| q.path == param.path) {
            return Err(err(
                &key("path"),
                format!(
                    "`{}` is already swept by parameters.{j}: each path once",
                    param.path
                ),
            ));
        }
        parameters.push(param);
    }

    if list == Some(ListSource::Values) {
        let n = parameters[0].domain.len();
        for (i, p) in parameters.iter().enumerate().skip(1) {
            if p.domain.len() != n {
                return Err(err(
                    &format!("parameters.{i}.values"),
                    format!(
                        "method \"list\" pairs the i-th values of every parameter: expected {n} values (as parameters.0), found {}",
                        p.domain.len()
                    ),
                ));
            }
        }
    }

    let design = Design {
        file: file.to_path_buf(),
        name,
        description: raw.description,
        scenario: relative(&raw.scenario),
        method: raw.method,
        points,
        list,
        replicates: replicates as u32,
        seed: seed as u64,
        outputs: raw.outputs,
        format: raw.format,
        observed: raw
            .observed
            .as_deref()
            .map_or_else(|| PathBuf::from("data/observed"), relative),
        years: raw.years,
        parameters,
        keep,
        common_random_numbers: raw.common_random_numbers.unwrap_or(false),
        morris,
        saltelli,
        sources,
    };
    if design.method == Method::Saltelli && design.parameters.len() > saltelli::MAX_PARAMETERS {
        return Err(design.error(
            "parameters",
            format!(
                "expected at most {} parameters for method \"saltelli\" (two Sobol dimensions each), found {}",
                saltelli::MAX_PARAMETERS,
                design.parameters.len()
            ),
        ));
    }
    let runs = design
        .point_count()
        .saturating_mul(u64::from(design.replicates));
    if runs > MAX_RUNS {
        let key = match design.method {
            Method::Grid => "parameters",
            Method::Morris => "morris.trajectories",
            Method::Saltelli => "saltelli.base_points",
            _ => "points",
        };
        return Err(design.error(
            key,
            format!(
                "expected at most {MAX_RUNS} runs (points × replicates), found {} × {} = {runs}",
                design.point_count(),
                design.replicates
            ),
        ));
    }
    Ok(design)
}

/// The `[morris]` or `[saltelli]` table: present exactly for its method, every value in range.
fn method_settings(
    method: Method,
    morris: &Option<RawMorris>,
    saltelli: &Option<RawSaltelli>,
    sources: &Sources,
) -> Result<(Option<MorrisSettings>, Option<SaltelliSettings>), ScenarioError> {
    let err = |key: &str, message: String| sources.error(key, message);
    let m = method.name();
    if morris.is_some() && method != Method::Morris {
        return Err(sources.key_error(
            "morris",
            format!("[morris] is for method \"morris\", found method \"{m}\""),
        ));
    }
    if saltelli.is_some() && method != Method::Saltelli {
        return Err(sources.key_error(
            "saltelli",
            format!("[saltelli] is for method \"saltelli\", found method \"{m}\""),
        ));
    }
    let missing = |table: &str, key: &str| {
        err(
            "method",
            format!("method \"{m}\" needs a [{table}] table with at least `{key}`"),
        )
    };
    match method {
        Method::Morris => {
            let Some(t) = morris else {
                return Err(missing("morris", "trajectories"));
            };
            if t.trajectories < 2 {
                return Err(err(
                    "morris.trajectories",
                    format!(
                        "expected at least 2 trajectories (the spread σ needs two), found {}",
                        t.trajectories
                    ),
                ));
            }
            let levels = t.levels.unwrap_or(4);
            if levels < 2 || levels % 2 != 0 || levels > 1000 {
                return Err(err(
                    "morris.levels",
                    format!(
                        "expected an even number of levels from 2 to 1000 (so that Δ = p/(2(p-1)) stays on the grid), found {levels}"
                    ),
                ));
            }
            if let Some(c) = t.candidates
                && (c <= t.trajectories || c > morris::MAX_CANDIDATES as i64)
            {
                return Err(err(
                    "morris.candidates",
                    format!(
                        "expected more candidates than trajectories ({}) and at most {}, found {c}",
                        t.trajectories,
                        morris::MAX_CANDIDATES
                    ),
                ));
            }
            let settings = MorrisSettings {
                trajectories: t.trajectories as usize,
                levels: levels as usize,
                candidates: t.candidates.map(|c| c as usize),
            };
            Ok((Some(settings), None))
        }
        Method::Saltelli => {
            let Some(t) = saltelli else {
                return Err(missing("saltelli", "base_points"));
            };
            if t.base_points < 2 || t.base_points > MAX_SOBOL_POINTS as i64 {
                return Err(err(
                    "saltelli.base_points",
                    format!(
                        "expected 2 to {MAX_SOBOL_POINTS} base points, found {}",
                        t.base_points
                    ),
                ));
            }
            let settings = SaltelliSettings {
                base_points: t.base_points as usize,
                second_order: t.second_order.unwrap_or(false),
            };
            Ok((None, Some(settings)))
        }
        _ => Ok((None, None)),
    }
}

/// Parses every `keep` entry; a syntax error points at the offending field inside the string.
fn keeps(entries: &[String], sources: &Sources) -> Result<Vec<Keep>, ScenarioError> {
    let mut out: Vec<Keep> = Vec::with_capacity(entries.len());
    for (i, text) in entries.iter().enumerate() {
        let key = format!("keep.{i}");
        let k = keep::parse(text).map_err(|e| ScenarioError {
            location: match sources.locate(&key) {
                // The span starts at the opening quote.
                Location::File { file, line, col } => Location::File {
                    file,
                    line,
                    col: col + 1 + e.offset,
                },
                other => other,
            },
            path: key.clone(),
            message: e.message,
        })?;
        if let Some(j) = out.iter().position(|o| o.text == k.text) {
            return Err(sources.error(
                &key,
                format!("`{}` is already kept by keep.{j}: each entry once", k.text),
            ));
        }
        out.push(k);
    }
    Ok(out)
}

fn parameter(
    p: RawParameter,
    i: usize,
    method: Method,
    sources: &Sources,
) -> Result<Parameter, ScenarioError> {
    let key = |k: &str| format!("parameters.{i}.{k}");
    let err = |k: &str, message: String| sources.error(&key(k), message);
    let path = p.path.trim().to_string();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(err(
            "path",
            format!(
                "expected a dotted scenario key path like hosts.GBR.recognition, found \"{}\"",
                p.path
            ),
        ));
    }
    if RESERVED.contains(&path.as_str()) {
        return Err(err(
            "path",
            format!(
                "`{path}` is set by the sweep itself (from `seed` and `replicates`): it cannot be swept"
            ),
        ));
    }
    let range = p.min.is_some() || p.max.is_some() || p.scale.is_some();
    let domain = match (p.values, range) {
        (Some(_), true) => {
            return Err(err(
                "values",
                "give either `values` or a range (`min`, `max`, `scale`), not both".into(),
            ));
        }
        (None, false) => {
            return Err(err(
                "path",
                format!("`{path}` has no values: give `min` and `max`, or `values`"),
            ));
        }
        (Some(values), false) => {
            if values.is_empty() {
                return Err(err(
                    "values",
                    "expected at least one value, found an empty list".into(),
                ));
            }
            for (j, v) in values.iter().enumerate() {
                let ok = match v {
                    Value::Integer(_) | Value::Boolean(_) => true,
                    Value::Float(x) => x.is_finite(),
                    _ => false,
                };
                if !ok {
                    return Err(sources.error(
                        &format!("parameters.{i}.values.{j}"),
                        format!(
                            "expected a finite number or true/false, found {}",
                            describe(v)
                        ),
                    ));
                }
            }
            if p.levels.is_some() {
                return Err(err(
                    "levels",
                    "`levels` is for ranges; with `values` every value is a level".into(),
                ));
            }
            Domain::Values(values)
        }
        (None, true) => {
            let (Some(min), Some(max)) = (p.min, p.max) else {
                let missing = if p.min.is_none() { "min" } else { "max" };
                return Err(err(
                    "path",
                    format!("missing required key `{missing}` of the range of `{path}`"),
                ));
            };
            if !min.is_finite() {
                return Err(err("min", format!("expected a finite number, found {min}")));
            }
            if !max.is_finite() {
                return Err(err("max", format!("expected a finite number, found {max}")));
            }
            if max <= min {
                return Err(err(
                    "max",
                    format!("empty range: expected max > min = {min}, found {max}"),
                ));
            }
            let scale = p.scale.unwrap_or_default();
            if scale == Scale::Log && min <= 0.0 {
                return Err(err(
                    "min",
                    format!("a log-scale range needs min > 0, found {min}"),
                ));
            }
            let levels = match (method, p.levels) {
                (Method::Grid, None) => {
                    return Err(err(
                        "path",
                        format!(
                            "missing required key `levels`: a range on a grid needs its number of levels (or give `values`) for `{path}`"
                        ),
                    ));
                }
                (Method::Grid, Some(k)) if k < 2 => {
                    return Err(err(
                        "levels",
                        format!("expected at least 2 levels (min and max), found {k}"),
                    ));
                }
                (Method::Grid, Some(k)) => Some(k as usize),
                (_, Some(_)) => {
                    return Err(err(
                        "levels",
                        format!(
                            "`levels` is for method \"grid\", found method \"{}\"",
                            method.name()
                        ),
                    ));
                }
                (Method::List, None) => {
                    return Err(err(
                        "path",
                        format!("method \"list\" needs explicit `values` for `{path}`"),
                    ));
                }
                (_, None) => None,
            };
            Domain::Range {
                min,
                max,
                scale,
                levels,
            }
        }
    };
    Ok(Parameter { path, domain })
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
        Value::Datetime(d) => d.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(text: &str) -> Result<Design, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.toml");
        std::fs::write(&p, text).unwrap();
        Design::read(&p).map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
    }

    const HEAD: &str = "scenario = \"s.toml\"\nmethod = \"lhs\"\npoints = 8\n";

    #[test]
    fn a_full_design_reads() {
        let d = design(&format!(
            "{HEAD}replicates = 2\nseed = 5\noutputs = \"series\"\nyears = [2000, 2010]\n\
             [[parameters]]\npath = \"exit.base_rate\"\nmin = 1e-6\nmax = 1e-5\nscale = \"log\"\n\
             [[parameters]]\npath = \"events.covid.enabled\"\nvalues = [true, false]\n"
        ))
        .unwrap();
        assert_eq!(d.name, "d");
        assert_eq!(d.points, Some(8));
        assert_eq!(d.replicates, 2);
        assert_eq!(d.outputs, Outputs::Series);
        assert_eq!(d.parameters.len(), 2);
        assert_eq!(d.parameters[1].domain.at(0.7), Value::Boolean(false));
        assert_eq!(d.observed, PathBuf::from("data/observed"));
        let Domain::Range { scale, .. } = d.parameters[0].domain else {
            panic!()
        };
        assert_eq!(scale, Scale::Log);
    }

    #[test]
    fn errors_are_located_lines() {
        let cases = [
            (
                format!("{HEAD}[[parameters]]\npath = \"a.b\"\nmin = 2\nmax = 1\n"),
                "DIR/d.toml:7:7: parameters.0.max: empty range: expected max > min = 2, found 1",
            ),
            (
                format!("{HEAD}[[parameters]]\npath = \"a.b\"\nmin = 1\nmax = 1\n"),
                "DIR/d.toml:7:7: parameters.0.max: empty range: expected max > min = 1, found 1",
            ),
            (
                "scenario = \"s.toml\"\nmethod = \"lhs\"\npoints = 0\n[[parameters]]\npath = \"a.b\"\nmin = 0\nmax = 1\n".into(),
                "DIR/d.toml:3:10: points: expected at least 1 point, found 0",
            ),
            (
                format!("{HEAD}[[parameters]]\npath = \"a.b\"\nvalues = []\n"),
                "DIR/d.toml:6:10: parameters.0.values: expected at least one value, found an empty list",
            ),
            (
                format!("{HEAD}[[parameters]]\npath = \"a.b\"\nmni = 0\n"),
                "DIR/d.toml:6:1: parameters.0.mni: unknown key (expected one of: path, min, max, scale, levels, values)",
            ),
            (
                "scenario = \"s.toml\"\nmethod = \"random\"\n".into(),
                "DIR/d.toml:2:10: method: expected one of grid, list, lhs, sobol, morris, saltelli, found the string \"random\"",
            ),
            (
                format!("{HEAD}[[parameters]]\npath = \"a.b\"\nmin = 0\nmax = 1\nscale = \"log\"\n"),
                "DIR/d.toml:6:7: parameters.0.min: a log-scale range needs min > 0, found 0",
            ),
            (
                format!("{HEAD}[[parameters]]\npath = \"run.seed\"\nvalues = [1]\n"),
                "DIR/d.toml:5:8: parameters.0.path: `run.seed` is set by the sweep itself (from `seed` and `replicates`): it cannot be swept",
            ),
            (
                format!("{HEAD}[[parameters]]\npath = \"a.b\"\nvalues = [1]\n[[parameters]]\npath = \"a.b\"\nvalues = [2]\n"),
                "DIR/d.toml:8:8: parameters.1.path: `a.b` is already swept by parameters.0: each path once",
            ),
            (
                format!("{HEAD}[[parameters]]\npath = \"a.b\"\nvalues = [1, \"x\"]\n"),
                "DIR/d.toml:6:14: parameters.0.values.1: expected a finite number or true/false, found \"x\"",
            ),
            (
                "scenario = \"s.toml\"\nmethod = \"grid\"\n[[parameters]]\npath = \"a.b\"\nmin = 0\nmax = 1\n".into(),
                "DIR/d.toml:4:8: parameters.0.path: missing required key `levels`: a range on a grid needs its number of levels (or give `values`) for `a.b`",
            ),
            (
                "scenario = \"s.toml\"\nmethod = \"grid\"\npoints = 4\n[[parameters]]\npath = \"a.b\"\nvalues = [1]\n".into(),
                "DIR/d.toml:3:10: points: method \"grid\" takes its points from the parameters: remove `points`",
            ),
            (
                "scenario = \"s.toml\"\nmethod = \"list\"\n[[parameters]]\npath = \"a.b\"\nvalues = [1, 2]\n[[parameters]]\npath = \"c.d\"\nvalues = [1]\n".into(),
                "DIR/d.toml:8:10: parameters.1.values: method \"list\" pairs the i-th values of every parameter: expected 2 values (as parameters.0), found 1",
            ),
            (
                "scenario = \"s.toml\"\nmethod = \"sobol\"\npoints = 4\n".into(),
                "DIR/d.toml:1:1: parameters: expected at least one [[parameters]] entry, found none",
            ),
            (
                format!("{HEAD}replicates = 0\n[[parameters]]\npath = \"a.b\"\nvalues = [1]\n"),
                "DIR/d.toml:4:14: replicates: expected at least 1 replicate, found 0",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(design(&text).unwrap_err(), expected, "{text}");
        }
    }

    #[test]
    fn grid_levels_include_both_ends_and_log_levels_are_geometric() {
        let d = Domain::Range {
            min: 1e-3,
            max: 1e-1,
            scale: Scale::Log,
            levels: Some(3),
        };
        let l = d.levels();
        assert_eq!(l[0], Value::Float(1e-3));
        assert_eq!(l[2], Value::Float(1e-1));
        let Value::Float(mid) = l[1] else { panic!() };
        assert!((mid - 1e-2).abs() < 1e-15);
        let lin = Domain::Range {
            min: 0.0,
            max: 1.0,
            scale: Scale::Linear,
            levels: Some(5),
        };
        assert_eq!(
            lin.levels(),
            [0.0, 0.25, 0.5, 0.75, 1.0].map(Value::Float).to_vec()
        );
    }

    #[test]
    fn too_many_grid_runs_is_refused() {
        let mut text = "scenario = \"s.toml\"\nmethod = \"grid\"\n".to_string();
        for i in 0..8 {
            text.push_str(&format!(
                "[[parameters]]\npath = \"p.{i}\"\nmin = 0\nmax = 1\nlevels = 10\n"
            ));
        }
        let e = design(&text).unwrap_err();
        assert!(e.contains("expected at most 10000000 runs"), "{e}");
    }
}
