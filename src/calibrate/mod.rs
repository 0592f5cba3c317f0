//! Calibration by ABC-SMC against the observed series: the executor around the sampler.
//!
//! * `config` — the calibration file (scenario, priors, targets, settings), parsed and checked;
//! * `prior` — prior distributions of free constants and the sampler's working space;
//! * `schedule` — free schedules: knot values under a random-walk prior;
//! * `space` — the joint prior over every free constant and schedule knot;
//! * `problem` — the scenario and the data: checks every name, and turns one simulation into a
//!   distance;
//! * `holdout` — out-of-sample scores of the posterior predictive against naive forecasts;
//! * `sbc` — simulation-based calibration: ranks of prior-drawn truths in their posteriors;
//! * `smc` — the sampler: one generation at a time, no I/O, thread-count independent;
//! * `checkpoint` — the state after every generation, sealed, and checked before resuming;
//! * `rounds` — a calibration evaluated in rounds of shards (a Slurm job array each) with a
//!   driver step between them, giving the posterior of a local run;
//! * `slurm` — the `sbatch` scripts of such a calibration;
//! * `output` — `posterior.csv`, `history.csv`, `posterior_summary.csv`, the calibrated
//!   scenario and the posterior-predictive run, written as one folder that replaces the last;
//! * `posterior` — a finished calibration's `posterior.csv` read back, and draws from it by
//!   weight (for `diaspora run --posterior`).
//!
//! The executor ([`calibrate`]) owns the loop: it asks the sampler for generations, checks the
//! stopping rules, writes a checkpoint after every generation (so `--resume` continues a killed
//! run and ends with the same result), and reports progress to an observer.

pub mod checkpoint;
pub mod config;
pub mod holdout;
pub mod output;
pub mod posterior;
pub mod prior;
pub mod problem;
pub mod rounds;
pub mod sbc;
pub mod schedule;
pub mod slurm;
pub mod smc;
pub mod space;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::output::Target;

pub use checkpoint::Checkpoint;
pub use config::Config;
pub use problem::Problem;
use serde::{Deserialize, Serialize};
use smc::{Budget, GenerationStats, Interrupted, Settings};

/// A calibration that could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The checkpoint belongs to another calibration or is damaged.
    #[error("{0}")]
    Checkpoint(String),
    /// A simulation failed.
    #[error("a simulation failed: {0}")]
    Simulation(String),
    /// A prior could not be sampled.
    #[error("prior of `{0}` could not be sampled: its bounds hold too little of its mass")]
    Prior(String),
    /// Not even generation 0 fitted in the simulation budget or the time allowed.
    #[error("the budget ran out before generation 0 was complete")]
    NoPopulation,
    /// The work folder of a calibration in rounds is not usable, or does not match the
    /// calibration (bad input).
    #[error("{0}")]
    Work(String),
    /// Shards of a round are missing or invalid.
    #[error("{0}")]
    Shards(String),
}

/// Receives progress as the calibration runs.
pub trait Progress {
    /// A generation starts, at this tolerance (infinite for generation 0).
    fn generation_started(&mut self, generation: u32, tolerance: f64);
    /// A generation is complete.
    fn generation_done(&mut self, stats: &GenerationStats);
    /// A batch of proposals of the current generation has been evaluated.
    fn batch_done(&mut self, _tally: smc::Tally) {}
}

/// Why the calibration stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `max_generations` reached.
    MaxGenerations,
    /// A generation's acceptance rate fell below `min_acceptance_rate`.
    MinAcceptanceRate,
    /// The tolerance reached `min_tolerance`.
    MinTolerance,
    /// `max_simulations` reached (a generation was left incomplete).
    MaxSimulations,
    /// `max_minutes` reached (a generation was left incomplete).
    MaxTime,
}

impl StopReason {
    /// A sentence.
    pub fn describe(&self) -> &'static str {
        match self {
            StopReason::MaxGenerations => "the maximum number of generations was reached",
            StopReason::MinAcceptanceRate => "the acceptance rate fell below the minimum",
            StopReason::MinTolerance => "the tolerance reached the minimum",
            StopReason::MaxSimulations => "the simulation budget ran out",
            StopReason::MaxTime => "the time allowed ran out",
        }
    }
}

impl Problem {
    /// Identifies the calibration: file, scenario and data.
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.config.text.as_bytes());
        h.update(self.base.hash.as_bytes());
        for t in &self.targets {
            for (y, p) in &t.points {
                h.update(format!("{y}:{}:{};", p.value, p.masked_cells).as_bytes());
            }
        }
        h.finalize().to_hex().to_string()
    }

    /// The sampler's settings.
    pub fn settings(&self) -> Settings {
        let a = &self.config.algorithm;
        Settings {
            particles: a.particles,
            batch: a.batch,
            seed: a.seed,
        }
    }
}

/// The outcome of a calibration.
pub struct Outcome {
    /// The final checkpoint (population, history, totals, stop reason).
    pub state: Checkpoint,
    /// Wall-clock seconds of this session.
    pub session_seconds: f64,
}

/// Where a calibration keeps its checkpoints while it runs: beside its output folder, so a
/// previous finished calibration stays whole until the new one replaces it.
pub fn resume_dir(target: &Target) -> PathBuf {
    target.sibling("resume")
}

/// The checkpoint `--resume` continues from: the running one, else a finished folder's (after
/// checking the folder against its manifest).
pub(crate) fn resume_from(
    target: &Target,
    problem: &Problem,
) -> Result<Checkpoint, CalibrationError> {
    let running = resume_dir(target).join(checkpoint::FILE);
    if running.exists() {
        return checkpoint::read(&running, problem);
    }
    let finished = target.path().join(checkpoint::FILE);
    if finished.exists() {
        crate::output::folder::verify(target.path(), output::MANIFEST)
            .map_err(|e| CalibrationError::Checkpoint(format!("cannot resume: {e}")))?;
        return checkpoint::read(&finished, problem);
    }
    Err(CalibrationError::Checkpoint(format!(
        "{}: cannot resume: no checkpoint (neither {} nor {}); run without --resume to start",
        target.path().display(),
        running.display(),
        finished.display()
    )))
}

/// Runs (or resumes) the calibration whose output folder is `target`, checkpointing beside it
/// after every generation.
pub fn calibrate(
    problem: &Problem,
    target: &Target,
    resume: bool,
    progress: &mut dyn Progress,
) -> Result<Outcome, CalibrationError> {
    let session = Instant::now();
    let dir = resume_dir(target);
    let resumed = if resume {
        Some(resume_from(target, problem)?)
    } else {
        None
    };
    let state = run(problem, resumed, progress, &mut |s| {
        checkpoint::write(&dir, s)
    })?;
    Ok(Outcome {
        state,
        session_seconds: session.elapsed().as_secs_f64(),
    })
}

/// ABC-SMC from the prior, or from `resumed`, until a stopping rule holds; `after` sees the
/// state after every generation (and once more at the end).
pub fn run(
    problem: &Problem,
    resumed: Option<Checkpoint>,
    progress: &mut dyn Progress,
    after: &mut dyn FnMut(&Checkpoint) -> Result<(), CalibrationError>,
) -> Result<Checkpoint, CalibrationError> {
    let session = Instant::now();
    let a = &problem.config.algorithm;
    let priors = &problem.space;
    let settings = problem.settings();
    let earlier = resumed.as_ref().map_or(0.0, |s| s.wall_seconds);
    let deadline = a.max_seconds.map(|s| session + smc::seconds(s - earlier));
    let budget = |used: u64| Budget {
        simulations: a.max_simulations.saturating_sub(used),
        deadline,
    };

    let mut state = match resumed {
        Some(s) => s,
        None => {
            progress.generation_started(0, f64::INFINITY);
            let (population, stats) = match smc::generation(
                None,
                f64::INFINITY,
                priors,
                problem,
                &settings,
                budget(0),
                &mut |t| progress.batch_done(t),
            ) {
                Ok(x) => x,
                Err(e) => {
                    interruption(problem, e, 0)?;
                    return Err(CalibrationError::NoPopulation);
                }
            };
            progress.generation_done(&stats);
            let mut s = Checkpoint::first(problem, population, stats);
            s.wall_seconds = session.elapsed().as_secs_f64();
            after(&s)?;
            s
        }
    };

    while state.stopped.is_none() {
        let epsilon = match next_tolerance(problem, &state) {
            Ok(epsilon) => epsilon,
            Err(reason) => {
                state.stopped = Some(reason);
                break;
            }
        };
        progress.generation_started(state.population.generation + 1, epsilon);
        match smc::generation(
            Some(&state.population),
            epsilon,
            priors,
            problem,
            &settings,
            budget(state.simulations),
            &mut |t| progress.batch_done(t),
        ) {
            Ok((population, stats)) => {
                progress.generation_done(&stats);
                state.advance(population, stats);
            }
            Err(e) => {
                state.stopped = Some(interruption(problem, e, state.simulations)?);
            }
        }
        state.wall_seconds = earlier + session.elapsed().as_secs_f64();
        after(&state)?;
    }
    state.wall_seconds = earlier + session.elapsed().as_secs_f64();
    after(&state)?;
    Ok(state)
}

/// The tolerance of the generation after `state`'s, or the rule that stops the calibration
/// before it: `max_generations`, `min_acceptance_rate` (of the last generation's
/// simulations), `min_tolerance`, `max_simulations`.
pub fn next_tolerance(problem: &Problem, state: &Checkpoint) -> Result<f64, StopReason> {
    let a = &problem.config.algorithm;
    let last = state.history.last().expect("generation 0 is recorded");
    let epsilon = smc::next_tolerance(&state.population, a.tolerance_quantile);
    if state.population.generation >= a.max_generations {
        Err(StopReason::MaxGenerations)
    } else if state.population.generation > 0
        && last.simulation_acceptance() < a.min_acceptance_rate
    {
        Err(StopReason::MinAcceptanceRate)
    } else if state.population.tolerance <= a.min_tolerance
        || epsilon <= a.min_tolerance && a.min_tolerance > 0.0
    {
        Err(StopReason::MinTolerance)
    } else if state.simulations >= a.max_simulations {
        Err(StopReason::MaxSimulations)
    } else {
        Ok(epsilon)
    }
}

/// What a generation that did not complete means, `simulations` having run before it: the
/// budget or the time ran out (a stop), or a simulation or a prior failed (an error).
pub fn interruption(
    problem: &Problem,
    e: Interrupted,
    simulations: u64,
) -> Result<StopReason, CalibrationError> {
    match e {
        Interrupted::Budget if simulations >= problem.config.algorithm.max_simulations => {
            Ok(StopReason::MaxSimulations)
        }
        Interrupted::Budget => Ok(StopReason::MaxTime),
        Interrupted::Failed(m) => Err(CalibrationError::Simulation(m)),
        Interrupted::Prior(i) => Err(CalibrationError::Prior(problem.space.names()[i].clone())),
    }
}

/// The default output folder of a calibration: `output/<name>/`.
pub fn default_dir(config: &Config) -> PathBuf {
    Path::new("output").join(&config.name)
}
