//! Scenarios: TOML files → overrides → validated [`Scenario`] holding the engine's model.
//!
//! Parse → validate → run. `raw` mirrors the file (unknown keys refused), `load` reads files,
//! follows `extends` and applies `--set` overrides to the resolved document, `compile` checks
//! every value and builds the engine's [`Model`](crate::engine::Model) and the observation spec.
//! Errors are [`ScenarioError`]s: one line naming file, line, column and key path.

mod compile;
mod error;
mod feedback;
pub mod freedom;
mod initial;
pub mod limits;
mod load;
mod migrate;
pub mod param;
pub mod raw;
mod shorten;
mod wording;

use std::path::{Path, PathBuf};

pub use error::{Location, ScenarioError, SourceFile, Sources};
pub use load::{Override, Resolved, Template, deserialize, read_toml_file};

use crate::engine::Model;
use crate::observe::ObservationSpec;

/// Run settings after overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSettings {
    /// First simulated year.
    pub start_year: i32,
    /// Last simulated year.
    pub end_year: i32,
    /// Master seed.
    pub seed: u64,
    /// Replicates.
    pub replicates: u32,
    /// Persons per agent.
    pub persons_per_agent: u32,
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Scenario name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// Run settings.
    pub run: RunSettings,
    /// The engine's model.
    pub model: Model,
    /// What a run reports.
    pub observation: ObservationSpec,
    /// The resolved scenario (every default explicit, overrides applied) as TOML.
    pub resolved: String,
    /// BLAKE3 hash (hex) of `resolved`.
    pub hash: String,
    /// The resolved scenario as data.
    pub raw: raw::RawScenario,
    /// The observed sources the scenario names (`observed`), each relative to the file that
    /// names it.
    pub observed: Vec<PathBuf>,
    /// What the scenario's overrides changed beyond the values they name (events clipped or
    /// left out when `--set` changes the run's years), one located line each.
    pub warnings: Vec<ScenarioError>,
}

impl Scenario {
    /// Reads, overrides and validates the scenario at `path`.
    pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        Template::read(path)?.instantiate(overrides)
    }

    /// Numeric values the scenario holds (each settable with `--set`).
    pub fn numeric_values(&self) -> Vec<String> {
        self.values()
            .into_iter()
            .filter(|(_, v)| matches!(v, toml::Value::Integer(_) | toml::Value::Float(_)))
            .map(|(path, _)| path)
            .collect()
    }

    /// Every value of the resolved scenario with its `--set` path (array entries by index), in
    /// key order.
    pub fn values(&self) -> Vec<(String, toml::Value)> {
        let table = toml::Table::try_from(&self.raw).unwrap_or_default();
        let mut out = Vec::new();
        leaves(toml::Value::Table(table), String::new(), &mut out);
        out
    }
}

fn leaves(v: toml::Value, path: String, out: &mut Vec<(String, toml::Value)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        toml::Value::Table(t) => t.into_iter().for_each(|(k, v)| leaves(v, join(&k), out)),
        toml::Value::Array(a) => a
            .into_iter()
            .enumerate()
            .for_each(|(i, v)| leaves(v, join(&i.to_string()), out)),
        v => out.push((path, v)),
    }
}

impl Template {
    /// Applies `overrides` and validates: the scenario a run uses.
    pub fn instantiate(&self, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        let (raw, sources, warnings) = self.resolve(overrides)?;
        let (model, observation) = compile::compile(&raw, &sources)?;
        let resolved = toml::to_string(&raw)
            .map_err(|e| sources.error("", format!("cannot write resolved scenario: {e}")))?;
        let hash = blake3::hash(resolved.as_bytes()).to_hex().to_string();
        let observed = raw
            .observed
            .iter()
            .enumerate()
            .map(|(i, p)| match sources.locate(&format!("observed.{i}")) {
                Location::File { file, .. } => {
                    Path::new(&file).parent().unwrap_or(Path::new("")).join(p)
                }
                _ => PathBuf::from(p),
            })
            .collect();
        Ok(Scenario {
            name: raw.name.clone(),
            description: raw.description.clone(),
            path: self.path.clone(),
            run: RunSettings {
                start_year: raw.run.start_year,
                end_year: raw.run.end_year,
                seed: raw.run.seed,
                replicates: raw.run.replicates,
                persons_per_agent: raw.run.persons_per_agent,
            },
            model,
            observation,
            resolved,
            hash,
            raw,
            observed,
            warnings,
        })
    }
}
