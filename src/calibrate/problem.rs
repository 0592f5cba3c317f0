//! The calibration problem: the scenario with its free parameters, the observed targets, and
//! the distance of one simulation to them. Everything the calibration file names is checked
//! here, before any simulation runs: prior paths exist and accept their bounds, target series
//! are produced by the scenario and present in the observed data in the years asked for.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::config::{Config, TargetSpec};
use super::smc::Simulator;
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
    /// Observed values by year, in year order.
    pub points: Vec<(i32, Point)>,
}

/// The scenario, its free parameters and the targets.
pub struct Problem {
    /// The calibration file.
    pub config: Config,
    /// The scenario as read (overrides are applied per proposal).
    pub template: Template,
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

        // Every prior's path must exist and accept the prior's bounds and midpoint.
        for (i, p) in config.parameters.iter().enumerate() {
            let (lo, hi) = p.prior.bounds();
            for (key, v) in [("min", lo), ("max", hi), ("path", 0.5 * (lo + hi))] {
                if let Err(e) = template.instantiate(&[Override::number(&p.path, v)]) {
                    let at = if e.message.starts_with("unknown key")
                        || e.message.contains("is an array")
                    {
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
            let points: Vec<(i32, Point)> = series
                .iter()
                .filter(|(y, _)| spec.years.as_ref().is_none_or(|r| r.contains(y)))
                .filter(|(y, _)| (base.run.start_year..=base.run.end_year).contains(y))
                .map(|(&y, &p)| (y, p))
                .collect();
            if points.is_empty() {
                let have: Vec<i32> = series.keys().copied().collect();
                return Err(config.error(
                    &at("years"),
                    format!(
                        "no observed year of `{}` at `{}` within the years asked for and the run ({}-{}); observed: {}-{}",
                        spec.series,
                        spec.place,
                        base.run.start_year,
                        base.run.end_year,
                        have.first().unwrap_or(&0),
                        have.last().unwrap_or(&0)
                    ),
                ));
            }
            targets.push(Target {
                spec: spec.clone(),
                probe,
                points,
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
        let mut dropped: Vec<Dropped> = loaded.into_values().flat_map(|o| o.dropped).collect();
        dropped.sort_by(|a, b| a.file.cmp(&b.file));
        dropped.dedup();
        Ok(Problem {
            config,
            template,
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
        self.config
            .parameters
            .iter()
            .zip(theta)
            .map(|(p, &v)| Override::number(&p.path, v))
            .collect()
    }

    /// The weighted distance of recorded values (`values[target][point]`) to the targets:
    /// `Σ w_t RMSE_t / Σ w_t`, each RMSE on the target's transform, masked observations as
    /// intervals.
    pub fn distance_of(&self, values: &[Vec<f64>]) -> f64 {
        let mut num = 0.0;
        let mut den = 0.0;
        for (t, sims) in self.targets.iter().zip(values) {
            let ss: f64 = t
                .points
                .iter()
                .zip(sims)
                .map(|(&(year, o), &sim)| {
                    let pair = Pair {
                        year,
                        sim,
                        band: (sim, sim),
                        obs: o.value,
                        obs_lower: o.lower().max(0.0),
                    };
                    pair.error(t.spec.transform).powi(2)
                })
                .sum();
            num += t.spec.weight * (ss / t.points.len() as f64).sqrt();
            den += t.spec.weight;
        }
        num / den
    }
}

/// Records the targets' simulated values as the years go by.
struct TargetRecorder<'a> {
    problem: &'a Problem,
    values: Vec<Vec<f64>>,
}

impl Observer for TargetRecorder<'_> {
    fn year_end(&mut self, tally: &YearTally) {
        let year = tally.year;
        if year < self.problem.years.0 || year > self.problem.years.1 {
            return;
        }
        for (t, values) in self.problem.targets.iter().zip(self.values.iter_mut()) {
            if t.points.binary_search_by_key(&year, |p| p.0).is_ok() {
                values.push(self.problem.plan.read(&t.probe, tally));
            }
        }
    }
}

impl Simulator for Problem {
    /// A parameter combination the scenario refuses (e.g. recognition + complementary above 1)
    /// has zero prior density: its distance is infinite and it is never accepted.
    fn distance(&self, theta: &[f64], seed: u64) -> Result<f64, String> {
        let Ok(scenario) = self.template.instantiate(&self.overrides(theta)) else {
            return Ok(f64::INFINITY);
        };
        let sim = Simulation::new(&scenario.model);
        let mut rec = TargetRecorder {
            problem: self,
            values: vec![Vec::new(); self.targets.len()],
        };
        sim.run(seed, 0, &mut rec).map_err(|e| e.to_string())?;
        Ok(self.distance_of(&rec.values))
    }
}
