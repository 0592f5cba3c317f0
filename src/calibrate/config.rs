//! The calibration file: which scenario, the priors of its free parameters (by `--set` key
//! path), the observed targets, and the sampler's settings. Parse → validate: unknown keys are
//! refused and every problem is one line, `file:line:col: key.path: expected …, found …`.
//!
//! ```toml
//! scenario = "baseline.toml"          # relative to this file
//! observed = ["../data/observed"]     # sources: project folders, UNHCR or tidy CSV files
//!
//! [algorithm]
//! particles = 500
//! seed = 1
//!
//! [[prior]]
//! path = "exit.base_rate"
//! dist = "loguniform"                 # uniform | loguniform | normal | beta
//! min = 2e-6
//! max = 2e-5
//!
//! [[target]]
//! series = "mou_arrivals"
//! place = "KOR"
//! years = [2000, 2025]
//! ```

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Table;

use super::prior::Prior;
use crate::compare::metrics::Transform;
use crate::scenario::{Location, ScenarioError, SourceFile, Sources, deserialize};

/// `[algorithm]` as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlgorithm {
    /// Particles per generation.
    pub particles: i64,
    /// Most generations after generation 0.
    #[serde(default = "default_generations")]
    pub max_generations: i64,
    /// Stop when a generation's acceptance rate falls below this.
    #[serde(default = "default_min_acceptance")]
    pub min_acceptance_rate: f64,
    /// Next tolerance = this weighted quantile of the last generation's distances.
    #[serde(default = "default_quantile")]
    pub tolerance_quantile: f64,
    /// Stop when the tolerance is at most this.
    #[serde(default)]
    pub min_tolerance: f64,
    /// Most simulations in all.
    #[serde(default = "default_max_simulations")]
    pub max_simulations: i64,
    /// Most wall-clock minutes (checked between batches; depends on the machine).
    #[serde(default)]
    pub max_minutes: Option<f64>,
    /// Proposals evaluated per parallel batch (part of the result: keep it fixed).
    #[serde(default = "default_batch")]
    pub batch: i64,
    /// Master seed.
    #[serde(default)]
    pub seed: i64,
    /// Posterior-predictive simulations.
    #[serde(default = "default_predictive")]
    pub predictive_draws: i64,
}

fn default_generations() -> i64 {
    10
}
fn default_min_acceptance() -> f64 {
    0.01
}
fn default_quantile() -> f64 {
    0.5
}
fn default_max_simulations() -> i64 {
    1_000_000
}
fn default_batch() -> i64 {
    256
}
fn default_predictive() -> i64 {
    100
}

/// `[[prior]]` as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPrior {
    /// Scenario key path, as for `--set`.
    pub path: String,
    /// `uniform`, `loguniform`, `normal` or `beta`.
    pub dist: String,
    /// Lower bound (required).
    pub min: f64,
    /// Upper bound (required).
    pub max: f64,
    /// Mean (`normal`).
    pub mean: Option<f64>,
    /// Standard deviation (`normal`).
    pub sd: Option<f64>,
    /// α (`beta`).
    pub alpha: Option<f64>,
    /// β (`beta`).
    pub beta: Option<f64>,
}

/// `[[target]]` as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// Simulated series name, with an observed twin of the same name.
    pub series: String,
    /// Place id.
    pub place: String,
    /// `female`, `male` or `total` (default).
    #[serde(default = "total")]
    pub sex: String,
    /// `[first, last]` years compared (default: every observed year).
    pub years: Option<[i32; 2]>,
    /// `log1p` (default), `anscombe` or `identity`.
    #[serde(default = "log1p")]
    pub transform: String,
    /// Weight in the distance (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// Observed source for this target only (relative to this file).
    pub observed: Option<String>,
}

fn total() -> String {
    "total".into()
}
fn log1p() -> String {
    "log1p".into()
}
fn one() -> f64 {
    1.0
}

/// The file as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCalibration {
    /// Scenario file, relative to this file.
    pub scenario: String,
    /// Calibration name (default: the file's stem).
    pub name: Option<String>,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// Observed sources, relative to this file (default: the sources the scenario names).
    #[serde(default)]
    pub observed: Vec<String>,
    /// Origin to keep in UNHCR-layout sources (default: the scenario origin's ISO3 code).
    pub origin: Option<String>,
    /// Sampler settings.
    pub algorithm: RawAlgorithm,
    /// Priors.
    #[serde(default)]
    pub prior: Vec<RawPrior>,
    /// Targets.
    #[serde(default)]
    pub target: Vec<RawTarget>,
}

/// A free parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct FreeParameter {
    /// Scenario key path.
    pub path: String,
    /// Its prior.
    pub prior: Prior,
}

/// A target before its data are attached.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetSpec {
    /// Series, place, sex.
    pub series: String,
    /// Place id.
    pub place: String,
    /// Sex.
    pub sex: String,
    /// Years compared.
    pub years: Option<RangeInclusive<i32>>,
    /// Transform.
    pub transform: Transform,
    /// Weight.
    pub weight: f64,
    /// Observed sources (the target's own, or the calibration's).
    pub observed: Vec<PathBuf>,
}

/// Sampler settings after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Algorithm {
    /// Particles per generation.
    pub particles: usize,
    /// Most generations after generation 0.
    pub max_generations: u32,
    /// Stop below this acceptance rate.
    pub min_acceptance_rate: f64,
    /// Tolerance quantile.
    pub tolerance_quantile: f64,
    /// Stop at or below this tolerance.
    pub min_tolerance: f64,
    /// Most simulations.
    pub max_simulations: u64,
    /// Most wall-clock seconds.
    pub max_seconds: Option<f64>,
    /// Batch size.
    pub batch: usize,
    /// Master seed.
    pub seed: u64,
    /// Posterior-predictive simulations.
    pub predictive_draws: u32,
}

/// A validated calibration file (the scenario and data are checked by `Problem::new`).
#[derive(Clone, Debug)]
pub struct Config {
    /// The file as named.
    pub file: PathBuf,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Scenario path.
    pub scenario: PathBuf,
    /// Observed sources.
    pub observed: Vec<PathBuf>,
    /// Origin override.
    pub origin: Option<String>,
    /// Sampler settings.
    pub algorithm: Algorithm,
    /// Free parameters.
    pub parameters: Vec<FreeParameter>,
    /// Targets.
    pub targets: Vec<TargetSpec>,
    /// Where every key came from.
    pub sources: Sources,
    /// The file's text (hashed into checkpoints).
    pub text: String,
}

impl Config {
    /// Reads and validates the calibration file at `path`.
    pub fn read(path: &Path) -> Result<Config, ScenarioError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            location: Location::FileOnly(name.clone()),
            path: String::new(),
            message: format!("cannot read calibration file: {e}"),
        })?;
        let source = SourceFile::new(name.clone(), text.clone())?;
        let table: Table = toml::from_str(&text).map_err(|e| ScenarioError {
            location: Location::FileOnly(name.clone()),
            path: String::new(),
            message: format!("invalid TOML: {}", e.message()),
        })?;
        let sources = Sources {
            files: vec![source],
            sets: Vec::new(),
        };
        let raw: RawCalibration = deserialize(table, &sources)?;
        validate(path, raw, sources, text)
    }

    /// An error located at `key` of the calibration file.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        self.sources.error(key, message)
    }
}

fn validate(
    file: &Path,
    raw: RawCalibration,
    sources: Sources,
    text: String,
) -> Result<Config, ScenarioError> {
    let err = |key: &str, message: String| sources.error(key, message);
    let base = file.parent().unwrap_or(Path::new(""));
    let name = raw.name.clone().unwrap_or_else(|| {
        file.file_stem().map_or_else(
            || "calibration".into(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    if raw.name.is_some() {
        crate::scenario::limits::check_name(&sources, "name", &name)?;
    }
    let a = &raw.algorithm;
    let positive = |key: &str, v: i64| -> Result<(), ScenarioError> {
        if v < 1 {
            return Err(err(
                &format!("algorithm.{key}"),
                format!("expected at least 1, found {v}"),
            ));
        }
        Ok(())
    };
    positive("particles", a.particles)?;
    positive("max_simulations", a.max_simulations)?;
    positive("batch", a.batch)?;
    if a.max_generations < 0 {
        return Err(err(
            "algorithm.max_generations",
            format!("expected 0 or more, found {}", a.max_generations),
        ));
    }
    if a.predictive_draws < 0 {
        return Err(err(
            "algorithm.predictive_draws",
            format!("expected 0 or more, found {}", a.predictive_draws),
        ));
    }
    if a.seed < 0 {
        return Err(err(
            "algorithm.seed",
            format!("expected a seed in 0..=2^63-1, found {}", a.seed),
        ));
    }
    if !(a.tolerance_quantile > 0.0 && a.tolerance_quantile < 1.0) {
        return Err(err(
            "algorithm.tolerance_quantile",
            format!(
                "expected a number in (0, 1), found {}",
                a.tolerance_quantile
            ),
        ));
    }
    if !(0.0..=1.0).contains(&a.min_acceptance_rate) {
        return Err(err(
            "algorithm.min_acceptance_rate",
            format!(
                "expected a number in [0, 1], found {}",
                a.min_acceptance_rate
            ),
        ));
    }
    if let Some(m) = a.max_minutes
        && (m.is_nan() || m <= 0.0)
    {
        return Err(err(
            "algorithm.max_minutes",
            format!("expected a number > 0, found {m}"),
        ));
    }
    if a.particles > a.max_simulations {
        return Err(err(
            "algorithm.max_simulations",
            format!(
                "expected at least `particles` ({}), found {}",
                a.particles, a.max_simulations
            ),
        ));
    }
    let algorithm = Algorithm {
        particles: a.particles as usize,
        max_generations: a.max_generations as u32,
        min_acceptance_rate: a.min_acceptance_rate,
        tolerance_quantile: a.tolerance_quantile,
        min_tolerance: a.min_tolerance,
        max_simulations: a.max_simulations as u64,
        max_seconds: a.max_minutes.map(|m| m * 60.0),
        batch: a.batch as usize,
        seed: a.seed as u64,
        predictive_draws: a.predictive_draws as u32,
    };

    if raw.prior.is_empty() {
        return Err(err(
            "prior",
            "expected at least one [[prior]], found none".into(),
        ));
    }
    let mut parameters: Vec<FreeParameter> = Vec::new();
    for (i, p) in raw.prior.iter().enumerate() {
        let at = |k: &str| format!("prior.{i}.{k}");
        if parameters.iter().any(|q| q.path == p.path) {
            return Err(err(&at("path"), format!("`{}` has two priors", p.path)));
        }
        if p.path.starts_with("run.") || p.path.starts_with("observation.") {
            return Err(err(
                &at("path"),
                format!(
                    "`{}` is not a model parameter (run and observation settings are fixed)",
                    p.path
                ),
            ));
        }
        if !(p.min.is_finite() && p.max.is_finite()) {
            return Err(err(&at("min"), "expected finite bounds".into()));
        }
        if p.min >= p.max {
            return Err(err(
                &at("max"),
                format!("expected a bound above min ({}), found {}", p.min, p.max),
            ));
        }
        let need = |v: Option<f64>, k: &str| {
            v.ok_or_else(|| err(&at("dist"), format!("dist \"{}\" needs `{k}`", p.dist)))
        };
        let unused = |v: Option<f64>, k: &str| -> Result<(), ScenarioError> {
            if v.is_some() {
                return Err(err(
                    &at(k),
                    format!("`{k}` is not a parameter of dist \"{}\"", p.dist),
                ));
            }
            Ok(())
        };
        let prior = match p.dist.as_str() {
            "uniform" | "loguniform" => {
                for (v, k) in [
                    (p.mean, "mean"),
                    (p.sd, "sd"),
                    (p.alpha, "alpha"),
                    (p.beta, "beta"),
                ] {
                    unused(v, k)?;
                }
                if p.dist == "uniform" {
                    Prior::Uniform {
                        min: p.min,
                        max: p.max,
                    }
                } else {
                    if p.min <= 0.0 {
                        return Err(err(
                            &at("min"),
                            format!(
                                "expected a bound > 0 for a log-uniform prior, found {}",
                                p.min
                            ),
                        ));
                    }
                    Prior::LogUniform {
                        min: p.min,
                        max: p.max,
                    }
                }
            }
            "normal" => {
                unused(p.alpha, "alpha")?;
                unused(p.beta, "beta")?;
                let sd = need(p.sd, "sd")?;
                if sd.is_nan() || sd <= 0.0 {
                    return Err(err(&at("sd"), format!("expected a number > 0, found {sd}")));
                }
                Prior::Normal {
                    mean: need(p.mean, "mean")?,
                    sd,
                    min: p.min,
                    max: p.max,
                }
            }
            "beta" => {
                unused(p.mean, "mean")?;
                unused(p.sd, "sd")?;
                let (alpha, beta) = (need(p.alpha, "alpha")?, need(p.beta, "beta")?);
                for (v, k) in [(alpha, "alpha"), (beta, "beta")] {
                    if v.is_nan() || v <= 0.0 {
                        return Err(err(&at(k), format!("expected a number > 0, found {v}")));
                    }
                }
                if p.min < 0.0 || p.max > 1.0 {
                    return Err(err(
                        &at("min"),
                        format!(
                            "expected bounds within [0, 1] for a beta prior, found [{}, {}]",
                            p.min, p.max
                        ),
                    ));
                }
                Prior::Beta {
                    alpha,
                    beta,
                    min: p.min,
                    max: p.max,
                }
            }
            other => {
                return Err(err(
                    &at("dist"),
                    format!("expected one of uniform, loguniform, normal, beta, found \"{other}\""),
                ));
            }
        };
        parameters.push(FreeParameter {
            path: p.path.clone(),
            prior,
        });
    }

    if raw.target.is_empty() {
        return Err(err(
            "target",
            "expected at least one [[target]], found none".into(),
        ));
    }
    let global: Vec<PathBuf> = raw.observed.iter().map(|p| base.join(p)).collect();
    let mut targets = Vec::new();
    for (i, t) in raw.target.iter().enumerate() {
        let at = |k: &str| format!("target.{i}.{k}");
        if !matches!(t.sex.as_str(), "female" | "male" | "total") {
            return Err(err(
                &at("sex"),
                format!("expected female, male or total, found \"{}\"", t.sex),
            ));
        }
        let transform = Transform::parse(&t.transform).ok_or_else(|| {
            err(
                &at("transform"),
                format!(
                    "expected log1p, anscombe or identity, found \"{}\"",
                    t.transform
                ),
            )
        })?;
        if !(t.weight >= 0.0 && t.weight.is_finite()) {
            return Err(err(
                &at("weight"),
                format!("expected a number >= 0, found {}", t.weight),
            ));
        }
        let years = match t.years {
            Some([a, b]) if a > b => {
                return Err(err(
                    &at("years"),
                    format!("expected [first, last] with first <= last, found [{a}, {b}]"),
                ));
            }
            Some([a, b]) => Some(a..=b),
            None => None,
        };
        targets.push(TargetSpec {
            series: t.series.clone(),
            place: t.place.clone(),
            sex: t.sex.clone(),
            years,
            transform,
            weight: t.weight,
            observed: t
                .observed
                .as_ref()
                .map_or_else(|| global.clone(), |o| vec![base.join(o)]),
        });
    }
    if targets.iter().all(|t| t.weight == 0.0) {
        return Err(err("target", "every target has weight 0".into()));
    }

    Ok(Config {
        file: file.to_path_buf(),
        name,
        description: raw.description,
        scenario: base.join(&raw.scenario),
        observed: global,
        origin: raw.origin,
        algorithm,
        parameters,
        targets,
        sources,
        text,
    })
}
