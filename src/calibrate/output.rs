//! What a calibration writes, as one folder that replaces the previous one whole (see
//! `output::folder`); `calibration.toml` lists the BLAKE3 hash of every other file:
//!
//! | file | contents |
//! |---|---|
//! | `posterior.csv` | the final population: `generation, particle, weight, distance`, then one column per parameter path |
//! | `posterior_all.csv` | every generation's population, generation 0 (the prior sample) first: the columns of `posterior.csv` |
//! | `history.csv` | per generation: `generation, tolerance, acceptance_rate, ess, proposals, simulations, wall_seconds, simulation_seconds, algorithm_seconds` |
//! | `priors.csv` | the priors: `parameter, dist, min, max, mean, sd, alpha, beta` |
//! | `posterior_summary.csv` | per parameter: prior, weighted `mean, sd, p05, p50, p95`, and the prior's `p05, p50, p95` |
//! | `calibrated.toml` | the resolved scenario with every free parameter at its posterior median (runnable) |
//! | `predictive/` | a run directory (`series.csv`, `summary.csv`, `manifest.toml`, `scenario.toml`, `draws.csv`): one replicate per posterior draw |
//! | `calibration.toml` | settings, stop reason, totals, how the time split, and `[files]` |
//! | `checkpoint.json` | the final state (what `--resume` continues from) |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use rand::RngExt;
use rayon::prelude::*;
use serde::Serialize;

use super::holdout::{self, Score};
use super::smc::{Particle, Population, weighted_quantile};
use super::{CalibrationError, Checkpoint, Problem, checkpoint};
use crate::engine::rng::{from_key, mix_key};
use crate::engine::{RunStats, Simulation};
use crate::observe::{Plan, Recorder, Row};
use crate::output::{
    FolderError, Manifest, PosteriorDraws, Staging, Target, fmt_value, quantile, series_csv,
    summarise, summary_csv, write_run,
};

/// The manifest of a calibration folder.
pub const MANIFEST: &str = "calibration.toml";

fn io(e: FolderError) -> CalibrationError {
    CalibrationError::Io(e.to_string())
}

/// `posterior.csv`: the final population.
pub fn posterior_csv(problem: &Problem, state: &Checkpoint) -> Vec<u8> {
    populations_csv(problem, [&state.population])
}

/// `posterior_all.csv`: every generation's population, in the columns of `posterior.csv`.
pub fn posterior_all_csv(problem: &Problem, state: &Checkpoint) -> Vec<u8> {
    populations_csv(problem, state.earlier.iter().chain([&state.population]))
}

fn populations_csv<'a>(
    problem: &Problem,
    populations: impl IntoIterator<Item = &'a Population>,
) -> Vec<u8> {
    let mut out = String::from("generation,particle,weight,distance");
    for name in problem.space.names() {
        let _ = write!(out, ",{name}");
    }
    out.push('\n');
    for g in populations {
        for (i, p) in g.particles.iter().enumerate() {
            let _ = write!(out, "{},{i},", g.generation);
            fmt_value(&mut out, p.weight);
            out.push(',');
            fmt_value(&mut out, p.distance);
            for &v in &p.theta {
                out.push(',');
                fmt_value(&mut out, v);
            }
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// `priors.csv`: the priors of the free constants and of estimated step standard deviations,
/// as numbers (what `diaspora plot` draws the marginals from; schedule knots, whose prior is
/// joint, are summarised in `posterior_summary.csv` and drawn over time).
pub fn priors_csv(problem: &Problem) -> Vec<u8> {
    use super::prior::Prior;
    use super::schedule::StepSd;
    let mut out = String::from("parameter,dist,min,max,mean,sd,alpha,beta\n");
    let constants = problem
        .config
        .parameters
        .iter()
        .map(|p| (p.path.clone(), &p.prior));
    let sds = problem
        .config
        .schedules
        .iter()
        .filter_map(|s| match &s.step_sd {
            StepSd::Estimated(p) => Some((format!("{}@step_sd", s.path), p)),
            StepSd::Fixed(_) => None,
        });
    for (path, prior) in constants.chain(sds) {
        let (name, extra) = match *prior {
            Prior::Uniform { .. } => ("uniform", [None; 4]),
            Prior::LogUniform { .. } => ("loguniform", [None; 4]),
            Prior::Normal { mean, sd, .. } => ("normal", [Some(mean), Some(sd), None, None]),
            Prior::Beta { alpha, beta, .. } => ("beta", [None, None, Some(alpha), Some(beta)]),
        };
        let (lo, hi) = prior.bounds();
        let _ = write!(out, "{path},{name},");
        fmt_value(&mut out, lo);
        out.push(',');
        fmt_value(&mut out, hi);
        for v in extra {
            out.push(',');
            if let Some(v) = v {
                fmt_value(&mut out, v);
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `history.csv`.
pub fn history_csv(state: &Checkpoint) -> Vec<u8> {
    let mut out = String::from(
        "generation,tolerance,acceptance_rate,simulated_share,simulation_acceptance,ess,proposals,simulations,months_saved,wall_seconds,simulation_seconds,algorithm_seconds\n",
    );
    for h in &state.history {
        let _ = writeln!(
            out,
            "{},{},{:.6},{:.6},{:.6},{:.3},{},{},{:.6},{:.3},{:.3},{:.3}",
            h.generation,
            if h.tolerance.is_finite() {
                format!("{}", h.tolerance)
            } else {
                "inf".into()
            },
            h.acceptance_rate,
            h.simulated_share(),
            h.simulation_acceptance(),
            h.ess,
            h.proposals,
            h.simulations,
            h.months_saved(),
            h.wall_seconds,
            h.simulation_seconds,
            h.algorithm_seconds
        );
    }
    out.into_bytes()
}

/// Weighted statistics of one parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParameterSummary {
    /// Key path.
    pub path: String,
    /// Prior description.
    pub prior: String,
    /// Weighted mean.
    pub mean: f64,
    /// Weighted standard deviation.
    pub sd: f64,
    /// Weighted 5th, 50th and 95th percentiles.
    pub p05: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// The prior's 5th, 50th and 95th percentiles (from 20,000 draws).
    pub prior_p05: f64,
    /// Prior median.
    pub prior_p50: f64,
    /// Prior 95th percentile.
    pub prior_p95: f64,
    /// The prior's standard deviation (from the same draws).
    pub prior_sd: f64,
}

/// Weighted summaries of every coordinate of `particles` (constants, schedule knots, step
/// standard deviations), each beside its prior's quantiles from 20,000 seeded draws (a free
/// constant's from its own prior, a schedule's from its joint random-walk prior).
pub fn summarise_parameters(problem: &Problem, particles: &[Particle]) -> Vec<ParameterSummary> {
    let seed = problem.config.algorithm.seed;
    let mut prior_draws: Vec<Vec<f64>> = problem
        .config
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut rng = from_key(mix_key(&[seed, 0x9_0105, i as u64]));
            (0..20_000)
                .filter_map(|_| p.prior.sample_z(&mut rng).map(|z| p.prior.from_z(z)))
                .collect()
        })
        .collect();
    for (k, s) in problem.config.schedules.iter().enumerate() {
        let mut rng = from_key(mix_key(&[seed, 0x9_0105, 0x5C4E_D000 + k as u64]));
        let draws: Vec<Vec<f64>> = (0..20_000)
            .filter_map(|_| s.sample_z(&mut rng).map(|z| s.from_z(&z)))
            .collect();
        prior_draws.extend((0..s.dim()).map(|c| draws.iter().map(|d| d[c]).collect()));
    }
    let descriptions = problem.space.describe();
    problem
        .space
        .names()
        .into_iter()
        .zip(descriptions)
        .zip(prior_draws)
        .enumerate()
        .map(|(i, ((path, prior), mut draws))| {
            let pairs: Vec<(f64, f64)> = particles.iter().map(|q| (q.theta[i], q.weight)).collect();
            let total: f64 = pairs.iter().map(|x| x.1).sum();
            let mean = pairs.iter().map(|(v, w)| v * w).sum::<f64>() / total;
            let var = pairs
                .iter()
                .map(|(v, w)| w * (v - mean).powi(2))
                .sum::<f64>()
                / total;
            draws.sort_by(f64::total_cmp);
            let pm = draws.iter().sum::<f64>() / draws.len() as f64;
            let psd =
                (draws.iter().map(|v| (v - pm).powi(2)).sum::<f64>() / draws.len() as f64).sqrt();
            ParameterSummary {
                path,
                prior,
                mean,
                sd: var.sqrt(),
                p05: weighted_quantile(pairs.clone(), 0.05),
                p50: weighted_quantile(pairs.clone(), 0.5),
                p95: weighted_quantile(pairs, 0.95),
                prior_p05: quantile(&draws, 0.05),
                prior_p50: quantile(&draws, 0.5),
                prior_p95: quantile(&draws, 0.95),
                prior_sd: psd,
            }
        })
        .collect()
}

/// `posterior_summary.csv`.
pub fn summary_of_parameters_csv(rows: &[ParameterSummary]) -> Vec<u8> {
    let mut out = String::from(
        "parameter,prior,mean,sd,p05,p50,p95,prior_p05,prior_p50,prior_p95,prior_sd\n",
    );
    for r in rows {
        let _ = write!(out, "{},\"{}\"", r.path, r.prior);
        for v in [
            r.mean,
            r.sd,
            r.p05,
            r.p50,
            r.p95,
            r.prior_p05,
            r.prior_p50,
            r.prior_p95,
            r.prior_sd,
        ] {
            out.push(',');
            fmt_value(&mut out, v);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `calibration.toml`.
#[derive(Serialize)]
struct CalibrationManifest {
    crate_version: String,
    calibration: String,
    calibration_file: String,
    scenario: String,
    scenario_hash: String,
    seed: u64,
    particles: usize,
    batch: usize,
    parameters: Vec<String>,
    targets: Vec<String>,
    /// `[first, last]` held out of the targets, if any.
    holdout: Option<[i32; 2]>,
    generations: u32,
    stop_reason: String,
    final_tolerance: f64,
    simulations: u64,
    threads: usize,
    wall_seconds: f64,
    simulation_thread_seconds: f64,
    algorithm_seconds: f64,
    predictive_draws: u32,
    predictive_seconds: f64,
    /// The years each target fitted (`compare` marks rows in them as targeted).
    fitted: Vec<Fitted>,
    /// BLAKE3 of every other file of the folder.
    files: BTreeMap<String, String>,
}

/// A target and the first and last year it fitted.
#[derive(Serialize)]
struct Fitted {
    series: String,
    place: String,
    sex: String,
    first: i32,
    last: i32,
}

/// What [`write_outputs`] did besides writing.
pub struct Written {
    /// Wall-clock seconds of the posterior-predictive simulations.
    pub predictive_seconds: f64,
    /// Out-of-sample scores of the targets (empty without `holdout`).
    pub holdout: Vec<Score>,
}

/// Writes every output of a finished calibration, the posterior-predictive run included, as
/// one new folder in place of `target`; the running checkpoints beside it are then removed.
pub fn write_outputs(
    problem: &Problem,
    state: &Checkpoint,
    target: &Target,
    threads: usize,
) -> Result<Written, CalibrationError> {
    let summary = summarise_parameters(problem, &state.population.particles);
    let medians: Vec<f64> = summary.iter().map(|s| s.p50).collect();
    let calibrated = problem
        .template
        .instantiate(&problem.overrides(&medians))
        .map_err(|e| {
            CalibrationError::Io(format!(
                "the posterior medians do not make a valid scenario: {e}"
            ))
        })?;
    let header = format!(
        "# {} calibrated by `diaspora calibrate {}`: free parameters at their posterior medians.\n",
        problem.base.name,
        problem.config.file.display()
    );
    let mut stage = target.stage().map_err(io)?;
    for (name, bytes) in [
        ("posterior.csv", posterior_csv(problem, state)),
        ("posterior_all.csv", posterior_all_csv(problem, state)),
        ("history.csv", history_csv(state)),
        ("posterior_summary.csv", summary_of_parameters_csv(&summary)),
        ("priors.csv", priors_csv(problem)),
        (
            "calibrated.toml",
            format!("{header}{}", calibrated.resolved).into_bytes(),
        ),
        (checkpoint::FILE, state.to_json()),
    ] {
        stage.write(name, &bytes).map_err(io)?;
    }

    let (predictive_seconds, holdout) =
        write_predictive(problem, state, &calibrated, &mut stage, threads)?;
    if problem.config.holdout.is_some() {
        stage
            .write("holdout.csv", &holdout::holdout_csv(&holdout))
            .map_err(io)?;
        stage
            .write("holdout_forecasts.csv", &holdout::forecasts_csv(&holdout))
            .map_err(io)?;
    }

    let a = &problem.config.algorithm;
    let manifest = CalibrationManifest {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        calibration: problem.config.name.clone(),
        calibration_file: problem.config.file.display().to_string(),
        scenario: problem.base.name.clone(),
        scenario_hash: problem.base.hash.clone(),
        seed: a.seed,
        particles: a.particles,
        batch: a.batch,
        parameters: problem
            .space
            .names()
            .iter()
            .zip(problem.space.describe())
            .map(|(name, prior)| format!("{name} ~ {prior}"))
            .collect(),
        targets: problem
            .targets
            .iter()
            .map(|t| {
                format!(
                    "{} {} {} ({} years, weight {})",
                    t.spec.series,
                    t.spec.place,
                    t.spec.sex,
                    t.points.len(),
                    t.spec.weight
                )
            })
            .collect(),
        holdout: problem
            .config
            .holdout
            .as_ref()
            .map(|h| [*h.start(), *h.end()]),
        fitted: problem
            .targets
            .iter()
            .map(|t| Fitted {
                series: t.spec.series.clone(),
                place: t.spec.place.clone(),
                sex: t.spec.sex.clone(),
                first: t.points.first().map_or(0, |p| p.0),
                last: t.points.last().map_or(0, |p| p.0),
            })
            .collect(),
        generations: state.population.generation,
        stop_reason: state
            .stopped
            .as_ref()
            .map_or("running".into(), |s| s.describe().to_string()),
        final_tolerance: state.population.tolerance,
        simulations: state.simulations,
        threads,
        wall_seconds: round3(state.wall_seconds),
        simulation_thread_seconds: round3(state.history.iter().map(|h| h.simulation_seconds).sum()),
        algorithm_seconds: round3(state.history.iter().map(|h| h.algorithm_seconds).sum()),
        predictive_draws: a.predictive_draws,
        predictive_seconds: round3(predictive_seconds),
        files: stage.hashes().clone(),
    };
    let text = toml::to_string(&manifest).expect("a manifest is plain data");
    stage.write(MANIFEST, text.as_bytes()).map_err(io)?;
    stage.commit().map_err(io)?;
    let _ = std::fs::remove_dir_all(super::resume_dir(target));
    Ok(Written {
        predictive_seconds,
        holdout,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// One posterior-predictive draw: the particle, the seed, the rows and the run's statistics.
type Draw = (usize, u64, Vec<Row>, RunStats);

/// The posterior-predictive run, as `predictive/` of `stage`: draw `i` picks a particle by
/// weight and simulates it with a seed from its own stream; the folder reads like any
/// `diaspora run` output. Returns its wall-clock seconds and the targets' out-of-sample
/// scores.
fn write_predictive(
    problem: &Problem,
    state: &Checkpoint,
    calibrated: &crate::scenario::Scenario,
    stage: &mut Staging<'_>,
    threads: usize,
) -> Result<(f64, Vec<Score>), CalibrationError> {
    let a = &problem.config.algorithm;
    let draws = a.predictive_draws;
    if draws == 0 {
        return Ok((0.0, Vec::new()));
    }
    let start = std::time::Instant::now();
    let particles = &state.population.particles;
    let cumulative: Vec<f64> = particles
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p.weight;
            Some(*acc)
        })
        .collect();
    let total = *cumulative.last().expect("a population");
    let plan = Arc::new(Plan::new(problem.base.observation.clone()));
    let results: Vec<Result<Draw, CalibrationError>> = (0..draws)
        .into_par_iter()
        .map(|i| {
            let mut rng = from_key(mix_key(&[a.seed, 0x9_2ED1C7, u64::from(i)]));
            let u = rng.random::<f64>() * total;
            let j = cumulative
                .partition_point(|&c| c <= u)
                .min(particles.len() - 1);
            let seed = rng.random::<u64>() >> 1;
            let scenario = problem
                .template
                .instantiate(&problem.overrides(&particles[j].theta))
                .map_err(|e| CalibrationError::Simulation(e.to_string()))?;
            let mut rec = Recorder::new(plan.clone());
            let stats = Simulation::new(&scenario.model)
                .run(seed, 0, &mut rec)
                .map_err(|e| CalibrationError::Simulation(e.to_string()))?;
            Ok((j, seed, rec.rows, stats))
        })
        .collect();
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let seconds = start.elapsed().as_secs_f64();

    let layout = &plan.layout;
    let holdout: Vec<Score> = problem
        .targets
        .iter()
        .filter_map(|t| {
            let by_draw: Vec<Vec<f64>> = results
                .iter()
                .map(|r| held_out_values(layout, t, &r.2))
                .collect();
            holdout::score(t, &by_draw)
        })
        .collect();
    let reps: Vec<(u32, &[Row])> = results
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u32, r.2.as_slice()))
        .collect();
    let rows: Vec<&[Row]> = results.iter().map(|r| r.2.as_slice()).collect();
    let mut draws_csv = String::from("replicate,particle,seed");
    for name in problem.space.names() {
        let _ = write!(draws_csv, ",{name}");
    }
    draws_csv.push('\n');
    for (i, (j, seed, _, _)) in results.iter().enumerate() {
        let _ = write!(draws_csv, "{i},{j},{seed}");
        for &v in &particles[*j].theta {
            draws_csv.push(',');
            fmt_value(&mut draws_csv, v);
        }
        draws_csv.push('\n');
    }
    let total_stats = results.iter().fold(RunStats::default(), |acc, r| acc + r.3);
    let manifest = Manifest {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: problem.base.name.clone(),
        scenario_file: problem.config.scenario.display().to_string(),
        scenario_hash: problem.base.hash.clone(),
        seed: a.seed,
        replicates: draws,
        threads,
        agents_created: total_stats.agents_created,
        agent_months: total_stats.agent_months,
        events: total_stats.events,
        wall_time_seconds: round3(seconds),
        overrides: vec![format!(
            "posterior-predictive: parameters drawn from {}",
            problem.config.file.display()
        )],
        command: std::env::args().collect::<Vec<_>>().join(" "),
        observed: if problem.config.observed.is_empty() {
            &problem.base.observed
        } else {
            &problem.config.observed
        }
        .iter()
        .map(|p| p.display().to_string())
        .collect(),
        posterior: Some(PosteriorDraws {
            calibration: stage.target().display().to_string(),
            posterior_hash: blake3::hash(&posterior_csv(problem, state))
                .to_hex()
                .to_string(),
            draws,
            particles: results.iter().map(|r| r.0).collect(),
        }),
        files: BTreeMap::new(),
    };
    write_run(
        stage,
        "predictive/",
        &[
            ("series.csv", series_csv(layout, &reps)),
            ("summary.csv", summary_csv(layout, &summarise(&rows))),
            ("scenario.toml", calibrated.resolved.as_bytes().to_vec()),
            ("draws.csv", draws_csv.into_bytes()),
        ],
        manifest,
    )
    .map_err(io)?;
    Ok((seconds, holdout))
}

/// A draw's simulated values of `target` in its held-out years (0 where a year has no row).
fn held_out_values(
    layout: &crate::observe::Layout,
    target: &super::problem::Target,
    rows: &[Row],
) -> Vec<f64> {
    let spec = &target.spec;
    let mine: BTreeMap<i32, f64> = rows
        .iter()
        .filter(|r| {
            layout.series[usize::from(r.series)] == spec.series
                && layout.places[usize::from(r.place)] == spec.place
                && r.sex.name() == spec.sex
        })
        .map(|r| (r.year, r.value))
        .collect();
    target
        .held_out
        .iter()
        .map(|(y, _)| mine.get(y).copied().unwrap_or(0.0))
        .collect()
}
