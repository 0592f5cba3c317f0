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
use super::schedule::{AfterFit, FreeSchedule, Scale, StepSd};
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
    /// Simulations per parallel batch (the proposals outside the prior between them cost none).
    #[serde(default = "default_batch")]
    pub batch: i64,
    /// Master seed.
    #[serde(default)]
    pub seed: i64,
    /// Posterior-predictive simulations.
    #[serde(default = "default_predictive")]
    pub predictive_draws: i64,
    /// Stop a simulation at the first year end where its distance can no longer be within the
    /// tolerance (the posterior is the same either way; only time is saved).
    #[serde(default = "yes")]
    pub early_rejection: bool,
}

fn yes() -> bool {
    true
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

impl RawPrior {
    /// The distribution part.
    fn dist(&self) -> RawDist {
        RawDist {
            dist: self.dist.clone(),
            min: self.min,
            max: self.max,
            mean: self.mean,
            sd: self.sd,
            alpha: self.alpha,
            beta: self.beta,
        }
    }
}

/// A prior distribution as written (a `[[prior]]` without its path, e.g. `step_sd_prior`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
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

/// `[[schedule]]` as written: a time-varying parameter whose knot values are estimated under a
/// random-walk prior.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    /// Scenario key path of the parameter (its drivers and interpolation are kept).
    pub path: String,
    /// Knot years, strictly increasing (at least two).
    pub years: Vec<i32>,
    /// `log` (positive values) or `logit` (probabilities): the scale of the random walk.
    pub scale: String,
    /// Smallest knot value, in the parameter's units.
    pub min: f64,
    /// Largest knot value.
    pub max: f64,
    /// Standard deviation of a step between consecutive knots, on the scale (given).
    pub step_sd: Option<f64>,
    /// Prior of the step standard deviation (estimated), instead of `step_sd`.
    pub step_sd_prior: Option<RawDist>,
    /// After the last fitted year: `prior` (the random walk goes on; default) or `hold` (the
    /// value of the last fitted year).
    #[serde(default = "after_fit")]
    pub after_fit: String,
}

fn after_fit() -> String {
    "prior".into()
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
    /// Priors of free constants.
    #[serde(default)]
    pub prior: Vec<RawPrior>,
    /// Free schedules.
    #[serde(default)]
    pub schedule: Vec<RawSchedule>,
    /// `[first, last]`: years held out of the targets and forecast after calibration.
    pub holdout: Option<[i32; 2]>,
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
    /// Stop simulations that cannot be accepted.
    pub early_rejection: bool,
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
    /// Free constants.
    pub parameters: Vec<FreeParameter>,
    /// Free schedules.
    pub schedules: Vec<FreeSchedule>,
    /// Held-out years: targets use only the years before the first, and the posterior
    /// predictive is scored on these.
    pub holdout: Option<RangeInclusive<i32>>,
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
    let algorithm = validate_algorithm(&raw.algorithm, &err)?;
    if raw.prior.is_empty() && raw.schedule.is_empty() {
        return Err(err(
            "prior",
            "expected at least one [[prior]] or [[schedule]], found none".into(),
        ));
    }
    let parameters = validate_priors(&raw.prior, &err)?;
    let schedules = validate_schedules(&raw.schedule, &parameters, &err)?;
    let holdout = match raw.holdout {
        Some([a, b]) if a > b => {
            return Err(err(
                "holdout",
                format!("expected [first, last] with first <= last, found [{a}, {b}]"),
            ));
        }
        Some([a, b]) => Some(a..=b),
        None => None,
    };
    let global: Vec<PathBuf> = raw.observed.iter().map(|p| base.join(p)).collect();
    let targets = validate_targets(&raw.target, base, &global, &err)?;

    Ok(Config {
        file: file.to_path_buf(),
        name,
        description: raw.description,
        scenario: base.join(&raw.scenario),
        observed: global,
        origin: raw.origin,
        algorithm,
        parameters,
        schedules,
        holdout,
        targets,
        sources,
        text,
    })
}

/// An error at a key path of the calibration file.
type Located<'a> = dyn Fn(&str, String) -> ScenarioError + 'a;

fn validate_algorithm(a: &RawAlgorithm, err: &Located) -> Result<Algorithm, ScenarioError> {
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
    for (key, v) in [
        ("max_generations", a.max_generations),
        ("predictive_draws", a.predictive_draws),
    ] {
        if v < 0 {
            return Err(err(
                &format!("algorithm.{key}"),
                format!("expected 0 or more, found {v}"),
            ));
        }
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
    Ok(Algorithm {
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
        early_rejection: a.early_rejection,
    })
}

fn validate_priors(raw: &[RawPrior], err: &Located) -> Result<Vec<FreeParameter>, ScenarioError> {
    let mut parameters: Vec<FreeParameter> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let at = format!("prior.{i}");
        if parameters.iter().any(|q| q.path == p.path) {
            return Err(err(
                &format!("{at}.path"),
                format!("`{}` has two priors", p.path),
            ));
        }
        check_model_path(&p.path, &format!("{at}.path"), err)?;
        parameters.push(FreeParameter {
            path: p.path.clone(),
            prior: parse_dist(&p.dist(), &at, err)?,
        });
    }
    Ok(parameters)
}

/// Run and observation settings are fixed: never calibrated.
fn check_model_path(path: &str, key: &str, err: &Located) -> Result<(), ScenarioError> {
    if path.starts_with("run.") || path.starts_with("observation.") {
        return Err(err(
            key,
            format!("`{path}` is not a model parameter (run and observation settings are fixed)"),
        ));
    }
    Ok(())
}

/// A prior distribution written at key path `at` (`at.dist`, `at.min`, …).
fn parse_dist(p: &RawDist, at: &str, err: &Located) -> Result<Prior, ScenarioError> {
    let key = |k: &str| format!("{at}.{k}");
    if !(p.min.is_finite() && p.max.is_finite()) {
        return Err(err(&key("min"), "expected finite bounds".into()));
    }
    if p.min >= p.max {
        return Err(err(
            &key("max"),
            format!("expected a bound above min ({}), found {}", p.min, p.max),
        ));
    }
    let need = |v: Option<f64>, k: &str| {
        v.ok_or_else(|| err(&key("dist"), format!("dist \"{}\" needs `{k}`", p.dist)))
    };
    let unused = |pairs: &[(Option<f64>, &str)]| -> Result<(), ScenarioError> {
        match pairs.iter().find(|(v, _)| v.is_some()) {
            Some((_, k)) => Err(err(
                &key(k),
                format!("`{k}` is not a parameter of dist \"{}\"", p.dist),
            )),
            None => Ok(()),
        }
    };
    let positive = |v: f64, k: &str| -> Result<f64, ScenarioError> {
        if v.is_nan() || v <= 0.0 {
            return Err(err(&key(k), format!("expected a number > 0, found {v}")));
        }
        Ok(v)
    };
    match p.dist.as_str() {
        "uniform" | "loguniform" => {
            unused(&[
                (p.mean, "mean"),
                (p.sd, "sd"),
                (p.alpha, "alpha"),
                (p.beta, "beta"),
            ])?;
            if p.dist == "uniform" {
                return Ok(Prior::Uniform {
                    min: p.min,
                    max: p.max,
                });
            }
            if p.min <= 0.0 {
                return Err(err(
                    &key("min"),
                    format!(
                        "expected a bound > 0 for a log-uniform prior, found {}",
                        p.min
                    ),
                ));
            }
            Ok(Prior::LogUniform {
                min: p.min,
                max: p.max,
            })
        }
        "normal" => {
            unused(&[(p.alpha, "alpha"), (p.beta, "beta")])?;
            let sd = positive(need(p.sd, "sd")?, "sd")?;
            Ok(Prior::Normal {
                mean: need(p.mean, "mean")?,
                sd,
                min: p.min,
                max: p.max,
            })
        }
        "beta" => {
            unused(&[(p.mean, "mean"), (p.sd, "sd")])?;
            let alpha = positive(need(p.alpha, "alpha")?, "alpha")?;
            let beta = positive(need(p.beta, "beta")?, "beta")?;
            if p.min < 0.0 || p.max > 1.0 {
                return Err(err(
                    &key("min"),
                    format!(
                        "expected bounds within [0, 1] for a beta prior, found [{}, {}]",
                        p.min, p.max
                    ),
                ));
            }
            Ok(Prior::Beta {
                alpha,
                beta,
                min: p.min,
                max: p.max,
            })
        }
        other => Err(err(
            &key("dist"),
            format!("expected one of uniform, loguniform, normal, beta, found \"{other}\""),
        )),
    }
}

fn validate_schedules(
    raw: &[RawSchedule],
    constants: &[FreeParameter],
    err: &Located,
) -> Result<Vec<FreeSchedule>, ScenarioError> {
    let mut schedules: Vec<FreeSchedule> = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        let at = |k: &str| format!("schedule.{i}.{k}");
        check_model_path(&s.path, &at("path"), err)?;
        let taken = constants.iter().any(|p| p.path == s.path)
            || schedules.iter().any(|q| q.path == s.path);
        if taken {
            return Err(err(
                &at("path"),
                format!(
                    "`{}` is already free (one [[prior]] or [[schedule]] per path)",
                    s.path
                ),
            ));
        }
        if s.years.len() < 2 {
            return Err(err(
                &at("years"),
                format!(
                    "expected at least two knot years (a single value is a [[prior]]), found {}",
                    s.years.len()
                ),
            ));
        }
        if let Some(w) = s.years.windows(2).find(|w| w[0] >= w[1]) {
            return Err(err(
                &at("years"),
                format!(
                    "expected strictly increasing years, found {} then {}",
                    w[0], w[1]
                ),
            ));
        }
        let scale = match s.scale.as_str() {
            "log" => Scale::Log,
            "logit" => Scale::Logit,
            other => {
                return Err(err(
                    &at("scale"),
                    format!("expected log or logit, found \"{other}\""),
                ));
            }
        };
        let inside = match scale {
            Scale::Log => s.min > 0.0 && s.min < s.max && s.max.is_finite(),
            Scale::Logit => s.min > 0.0 && s.min < s.max && s.max < 1.0,
        };
        if !inside {
            let domain = match scale {
                Scale::Log => "0 < min < max",
                Scale::Logit => "0 < min < max < 1",
            };
            return Err(err(
                &at("max"),
                format!(
                    "expected bounds with {domain} on the {} scale, found [{}, {}]",
                    scale.name(),
                    s.min,
                    s.max
                ),
            ));
        }
        let step_sd = match (s.step_sd, &s.step_sd_prior) {
            (Some(sd), None) if sd.is_finite() && sd > 0.0 => StepSd::Fixed(sd),
            (Some(sd), None) => {
                return Err(err(
                    &at("step_sd"),
                    format!("expected a number > 0, found {sd}"),
                ));
            }
            (None, Some(p)) => {
                let prior = parse_dist(p, &at("step_sd_prior"), err)?;
                if prior.bounds().0 <= 0.0 {
                    return Err(err(
                        &at("step_sd_prior.min"),
                        format!(
                            "expected a lower bound > 0 for a standard deviation, found {}",
                            prior.bounds().0
                        ),
                    ));
                }
                StepSd::Estimated(prior)
            }
            (Some(_), Some(_)) => {
                return Err(err(
                    &at("step_sd_prior"),
                    "expected either `step_sd` (given) or `step_sd_prior` (estimated), found both"
                        .into(),
                ));
            }
            (None, None) => {
                return Err(err(
                    &at("path"),
                    "expected `step_sd` (given) or `step_sd_prior` (estimated)".into(),
                ));
            }
        };
        let after_fit = match s.after_fit.as_str() {
            "prior" => AfterFit::Prior,
            "hold" => AfterFit::Hold,
            other => {
                return Err(err(
                    &at("after_fit"),
                    format!("expected prior or hold, found \"{other}\""),
                ));
            }
        };
        schedules.push(FreeSchedule {
            path: s.path.clone(),
            years: s.years.clone(),
            scale,
            min: s.min,
            max: s.max,
            step_sd,
            after_fit,
        });
    }
    Ok(schedules)
}

fn validate_targets(
    raw: &[RawTarget],
    base: &Path,
    global: &[PathBuf],
    err: &Located,
) -> Result<Vec<TargetSpec>, ScenarioError> {
    if raw.is_empty() {
        return Err(err(
            "target",
            "expected at least one [[target]], found none".into(),
        ));
    }
    let mut targets = Vec::new();
    for (i, t) in raw.iter().enumerate() {
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
                .map_or_else(|| global.to_vec(), |o| vec![base.join(o)]),
        });
    }
    if targets.iter().all(|t| t.weight == 0.0) {
        return Err(err("target", "every target has weight 0".into()));
    }
    Ok(targets)
}
