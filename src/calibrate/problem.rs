//! The calibration problem: the scenario with its free parameters, the observed targets, and
//! the distance of one simulation to them. Everything the calibration file names is checked
//! here, before any simulation runs: prior paths exist and accept their bounds, target series
//! are produced by the scenario and present in the observed data in the years asked for.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::config::{Config, TargetSpec};
use super::smc::{Simulated, Simulator};
use super::space::ParameterSpace;
use crate::compare::metrics::Pair;
use crate::engine::{Observer, Simulation, YearTally};
use crate::observe::{Plan, Probe, Sex};
use crate::observed::{Dropped, Observed, Point, load_sources};
use crate::scenario::{Override, Scenario, ScenarioError, Template};

/// A target with its data.
#[derive(Clone, Debug)]
pub struct Target {
    /// As written.
    pub spec: TargetSpec,
    /// Where its simulated value is read.
    pub probe: Probe,
    /// Observed values by year, in year order: the years the distance compares.
    pub points: Vec<(i32, Point)>,
    /// Observed values in the held-out years (empty without `holdout`).
    pub held_out: Vec<(i32, Point)>,
}

/// The scenario, its free parameters and the targets.
#[derive(Clone)]
pub struct Problem {
    /// The calibration file.
    pub config: Config,
    /// The scenario as read (overrides are applied per proposal).
    pub template: Template,
    /// The free constants and schedules, with their joint prior.
    pub space: ParameterSpace,
    /// The scenario without overrides.
    pub base: Scenario,
    /// The observation plan (the same for every parameter value).
    pub plan: Arc<Plan>,
    /// The targets.
    pub targets: Vec<Target>,
    /// The origin whose rows were read from UNHCR-layout sources.
    pub origin: String,
    /// Published values the sources' declared quirks dropped (read as not reported), per file.
    pub dropped: Vec<Dropped>,
    /// First and last year any target compares.
    years: (i32, i32),
}

fn sex(s: &str) -> Sex {
    match s {
        "female" => Sex::Female,
        "male" => Sex::Male,
        _ => Sex::Total,
    }
}

impl Problem {
    /// Reads the scenario and the data and checks the calibration against them.
    pub fn new(config: Config) -> Result<Problem, ScenarioError> {
        let template = Template::read(&config.scenario)?;
        let base = template.instantiate(&[])?;

        check_constants(&config, &template)?;
        let linear = check_schedules(&config, &template)?;

        let origin = match &config.origin {
            Some(o) => o.clone(),
            None => {
                let id = &base.raw.exit.origin;
                base.raw
                    .places
                    .get(id)
                    .and_then(|p| p.iso3.clone())
                    .unwrap_or_else(|| id.clone())
            }
        };
        let plan = Arc::new(Plan::new(base.observation.clone()));
        let mut loaded: BTreeMap<Vec<PathBuf>, Observed> = BTreeMap::new();
        let mut targets = Vec::new();
        for (i, spec) in config.targets.iter().enumerate() {
            let at = |k: &str| format!("target.{i}.{k}");
            let probe = plan.probe(&spec.series, &spec.place, sex(&spec.sex)).ok_or_else(|| {
                let declared: Vec<&str> = base.observation.series.iter().map(|s| s.name.as_str()).collect();
                config.error(
                    &at("series"),
                    format!(
                        "the scenario does not produce `{}` at `{}` ({}); its declared series are: {}",
                        spec.series,
                        spec.place,
                        spec.sex,
                        declared.join(", ")
                    ),
                )
            })?;
            // Sources named by the target or the calibration file, else by the scenario.
            let sources = if spec.observed.is_empty() {
                base.observed.clone()
            } else {
                spec.observed.clone()
            };
            if sources.is_empty() {
                return Err(config.error(
                    &at("series"),
                    "no observed sources: name them with `observed` in the calibration file or in the scenario",
                ));
            }
            if !loaded.contains_key(&sources) {
                let obs = load_sources(&sources, &origin).map_err(|e| {
                    config.error(&at("series"), format!("cannot read observed data: {e}"))
                })?;
                loaded.insert(sources.clone(), obs);
            }
            let obs = &loaded[&sources];
            let Some(series) = obs.get(&spec.series, &spec.place, &spec.sex) else {
                let places: Vec<&str> = obs
                    .series
                    .keys()
                    .filter(|k| k.series == spec.series)
                    .map(|k| k.place.as_str())
                    .collect();
                let message = if places.is_empty() {
                    format!("no observed series `{}` in the observed data", spec.series)
                } else {
                    format!(
                        "no observed `{}` at `{}` ({}); observed places: {}",
                        spec.series,
                        spec.place,
                        spec.sex,
                        places.join(", ")
                    )
                };
                return Err(config.error(&at("place"), message));
            };
            let in_run: Vec<(i32, Point)> = series
                .iter()
                .filter(|(y, _)| spec.years.as_ref().is_none_or(|r| r.contains(y)))
                .filter(|(y, _)| (base.run.start_year..=base.run.end_year).contains(y))
                .map(|(&y, &p)| (y, p))
                .collect();
            let (points, held_out) = match &config.holdout {
                Some(h) => (
                    in_run
                        .iter()
                        .filter(|p| p.0 < *h.start())
                        .copied()
                        .collect(),
                    in_run
                        .iter()
                        .filter(|p| h.contains(&p.0))
                        .copied()
                        .collect(),
                ),
                None => (in_run, Vec::new()),
            };
            if points.is_empty() {
                let have: Vec<i32> = series.keys().copied().collect();
                return Err(config.error(
                    &at("years"),
                    format!(
                        "no observed year of `{}` at `{}` within the years asked for and the run ({}-{}){}; observed: {}-{}",
                        spec.series,
                        spec.place,
                        base.run.start_year,
                        base.run.end_year,
                        config
                            .holdout
                            .as_ref()
                            .map_or(String::new(), |h| format!(" before the holdout ({})", h.start())),
                        have.first().unwrap_or(&0),
                        have.last().unwrap_or(&0)
                    ),
                ));
            }
            targets.push(Target {
                spec: spec.clone(),
                probe,
                points,
                held_out,
            });
        }
        let first = targets
            .iter()
            .filter_map(|t| t.points.first())
            .map(|p| p.0)
            .min()
            .unwrap_or(0);
        let last = targets
            .iter()
            .filter_map(|t| t.points.last())
            .map(|p| p.0)
            .max()
            .unwrap_or(0);
        let space = ParameterSpace {
            constants: config.parameters.clone(),
            schedules: config.schedules.clone(),
            linear,
            last_fitted: last,
        };
        let mut dropped: Vec<Dropped> = loaded.into_values().flat_map(|o| o.dropped).collect();
        dropped.sort_by(|a, b| a.file.cmp(&b.file));
        dropped.dedup();
        Ok(Problem {
            config,
            template,
            space,
            base,
            plan,
            targets,
            origin,
            dropped,
            years: (first, last),
        })
    }

    /// Overrides that set the free parameters to `theta`.
    pub fn overrides(&self, theta: &[f64]) -> Vec<Override> {
        self.space.overrides(theta)
    }

    /// The last year any target compares.
    pub fn last_fitted(&self) -> i32 {
        self.years.1
    }

    /// The weighted distance of recorded values (`values[target][point]`) to the targets:
    /// `Σ w_t RMSE_t / Σ w_t`, each RMSE on the target's transform, masked observations as
    /// intervals.
    pub fn distance_of(&self, values: &[Vec<f64>]) -> f64 {
        let mut ss = vec![0.0; self.targets.len()];
        for ((t, sims), ss) in self.targets.iter().zip(values).zip(&mut ss) {
            for (i, &sim) in sims.iter().enumerate() {
                *ss += t.squared_error(i, sim);
            }
        }
        self.combine(&ss)
    }

    /// The distance from each target's sum of squared errors, `ss[target]`. With partial sums
    /// (the years so far) it is a lower bound of the final distance: sums only grow, and every
    /// step of the formula is monotone in them, in floating point too.
    fn combine(&self, ss: &[f64]) -> f64 {
        let mut num = 0.0;
        let mut den = 0.0;
        for (t, &ss) in self.targets.iter().zip(ss) {
            num += t.spec.weight * (ss / t.points.len() as f64).sqrt();
            den += t.spec.weight;
        }
        num / den
    }
}

impl Target {
    /// The squared transformed error of simulated value `sim` at point `i`.
    fn squared_error(&self, i: usize, sim: f64) -> f64 {
        let (year, o) = self.points[i];
        let pair = Pair {
            year,
            sim,
            band: (sim, sim),
            obs: o.value,
            obs_lower: o.lower().max(0.0),
        };
        pair.error(self.spec.transform).powi(2)
    }
}

/// Records the targets' simulated values as the years go by, with the running sums of squared
/// errors; done after the last year any target compares, or, given a tolerance, as soon as
/// the distance's lower bound exceeds it (the proposal cannot be accepted).
struct TargetRecorder<'a> {
    problem: &'a Problem,
    values: Vec<Vec<f64>>,
    ss: Vec<f64>,
    tolerance: f64,
    rejected: bool,
    finished: bool,
}

impl<'a> TargetRecorder<'a> {
    fn new(problem: &'a Problem, tolerance: f64) -> TargetRecorder<'a> {
        TargetRecorder {
            problem,
            values: vec![Vec::new(); problem.targets.len()],
            ss: vec![0.0; problem.targets.len()],
            tolerance,
            rejected: false,
            finished: false,
        }
    }
}

impl Observer for TargetRecorder<'_> {
    fn year_end(&mut self, tally: &YearTally) {
        let year = tally.year;
        self.finished = year >= self.problem.years.1;
        if year < self.problem.years.0 || year > self.problem.years.1 {
            return;
        }
        let targets = self.problem.targets.iter();
        for ((t, values), ss) in targets.zip(&mut self.values).zip(&mut self.ss) {
            if t.points.binary_search_by_key(&year, |p| p.0).is_ok() {
                let sim = self.problem.plan.read(&t.probe, tally);
                *ss += t.squared_error(values.len(), sim);
                values.push(sim);
            }
        }
        if self.tolerance.is_finite() && self.problem.combine(&self.ss) > self.tolerance {
            self.rejected = true;
        }
    }

    fn done(&self) -> bool {
        self.finished || self.rejected
    }
}

impl Problem {
    /// The targets' simulated values at parameters `theta` with `seed` (`values[target][point]`,
    /// the years of `points`); `Ok(None)` when the scenario refuses the parameters.
    pub fn simulate_targets(
        &self,
        theta: &[f64],
        seed: u64,
    ) -> Result<Option<Vec<Vec<f64>>>, String> {
        let Ok(scenario) = self.template.instantiate(&self.overrides(theta)) else {
            return Ok(None);
        };
        let mut rec = TargetRecorder::new(self, f64::INFINITY);
        Simulation::new(&scenario.model)
            .run(seed, 0, &mut rec)
            .map_err(|e| e.to_string())?;
        Ok(Some(rec.values))
    }

    /// The same problem with the targets' observations replaced by `values[target][point]`
    /// (unmasked; e.g. data the model made) and the sampler seeded with `seed`.
    pub fn with_data(&self, values: &[Vec<f64>], seed: u64) -> Problem {
        let mut p = self.clone();
        for (t, v) in p.targets.iter_mut().zip(values) {
            for (point, &x) in t.points.iter_mut().zip(v) {
                point.1 = Point {
                    value: x,
                    masked_cells: 0,
                };
            }
        }
        p.config.algorithm.seed = seed;
        p
    }
}

impl Simulator for Problem {
    /// A parameter combination the scenario refuses (e.g. recognition + complementary above 1)
    /// has zero prior density: its distance is infinite and it is never accepted. With
    /// `early_rejection`, a simulation stops at the first year end where the distance's lower
    /// bound exceeds `tolerance` (its distance is then infinite: it is rejected either way).
    fn distance(&self, theta: &[f64], seed: u64, tolerance: f64) -> Result<Simulated, String> {
        let Ok(scenario) = self.template.instantiate(&self.overrides(theta)) else {
            return Ok(Simulated {
                distance: f64::INFINITY,
                months: 0,
                full_months: 0,
            });
        };
        let early = if self.config.algorithm.early_rejection {
            tolerance
        } else {
            f64::INFINITY
        };
        let mut rec = TargetRecorder::new(self, early);
        let stats = Simulation::new(&scenario.model)
            .run(seed, 0, &mut rec)
            .map_err(|e| e.to_string())?;
        Ok(Simulated {
            distance: if rec.rejected {
                f64::INFINITY
            } else {
                self.combine(&rec.ss)
            },
            months: stats.months,
            full_months: u64::from(scenario.model.months()),
        })
    }
}

/// Every prior's path must exist and accept the prior's bounds and midpoint.
fn check_constants(config: &Config, template: &Template) -> Result<(), ScenarioError> {
    for (i, p) in config.parameters.iter().enumerate() {
        let (lo, hi) = p.prior.bounds();
        for (key, v) in [("min", lo), ("max", hi), ("path", 0.5 * (lo + hi))] {
            if let Err(e) = template.instantiate(&[Override::number(&p.path, v)]) {
                let at =
                    if e.message.starts_with("unknown key") || e.message.contains("is an array") {
                        "path"
                    } else {
                        key
                    };
                return Err(config.error(
                    &format!("prior.{i}.{at}"),
                    format!("{}: {}", p.path, e.message),
                ));
            }
        }
    }
    Ok(())
}

/// Every free schedule's path must exist and accept the schedule at its bounds and middle;
/// returns, per schedule, whether the scenario interpolates it linearly.
fn check_schedules(config: &Config, template: &Template) -> Result<Vec<bool>, ScenarioError> {
    let mut linear = Vec::new();
    for (i, s) in config.schedules.iter().enumerate() {
        let middle = s
            .scale
            .back(0.5 * (s.scale.forward(s.min) + s.scale.forward(s.max)));
        for (key, v) in [("min", s.min), ("max", s.max), ("path", middle)] {
            let o = s.override_for(&vec![v; s.years.len()], i32::MAX, true);
            if let Err(e) = template.instantiate(&[o]) {
                let at =
                    if e.message.starts_with("unknown key") || e.message.contains("is an array") {
                        "path"
                    } else if e.path.ends_with("years") || e.message.contains("year") {
                        "years"
                    } else {
                        key
                    };
                return Err(config.error(
                    &format!("schedule.{i}.{at}"),
                    format!("{}: {}", s.path, e.message),
                ));
            }
        }
        let step = lookup(&template.table, &s.path)
            .and_then(|v| v.get("interpolation"))
            .and_then(|v| v.as_str())
            == Some("step");
        linear.push(!step);
    }
    Ok(linear)
}

/// The value at a dotted key path of a resolved scenario document.
fn lookup<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut segments = path.split('.');
    let mut current = table.get(segments.next()?)?;
    for seg in segments {
        current = match current {
            toml::Value::Table(t) => t.get(seg)?,
            toml::Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}
