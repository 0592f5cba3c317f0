//! Running all replicates of a scenario and collecting their output rows — of one parameter
//! set, or of one parameter set per replicate (a posterior's draws).

use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::engine::{EngineError, RunStats, Simulation};
use crate::observe::{Plan, Recorder, Row};
use crate::scenario::Scenario;

/// The rows of every replicate, in replicate order, and what the runs cost.
pub struct EnsembleResult {
    /// Names the rows refer to.
    pub plan: Arc<Plan>,
    /// Rows per replicate.
    pub replicates: Vec<Vec<Row>>,
    /// Per-replicate statistics.
    pub stats: Vec<RunStats>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl EnsembleResult {
    /// Statistics summed over replicates.
    pub fn total(&self) -> RunStats {
        self.stats
            .iter()
            .copied()
            .fold(RunStats::default(), |a, b| a + b)
    }

    /// Each replicate's rows with its number, as `output::series_csv` takes them.
    pub fn numbered(&self) -> Vec<(u32, &[Row])> {
        (0u32..)
            .zip(self.replicates.iter().map(Vec::as_slice))
            .collect()
    }
}

/// Runs replicates `0..scenario.run.replicates` on the current rayon pool.
pub fn run(scenario: &Scenario) -> Result<EnsembleResult, EngineError> {
    run_checked(scenario, false)
}

/// [`run`], also checking the engine's wake-up invariant at every year's end when `check` is
/// set (debug builds always check); the rows are the same either way.
pub fn run_checked(scenario: &Scenario, check: bool) -> Result<EnsembleResult, EngineError> {
    let plan = Arc::new(Plan::new(scenario.observation.clone()));
    let sim = Simulation::new(&scenario.model).checked(check);
    let start = Instant::now();
    let results = sim.run_ensemble(scenario.run.seed, 0, scenario.run.replicates, |_| {
        Recorder::new(plan.clone())
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let (replicates, stats) = results
        .into_iter()
        .map(|(rec, stats)| (rec.rows, stats))
        .unzip();
    Ok(EnsembleResult {
        plan,
        replicates,
        stats,
        seconds,
    })
}

/// Runs replicate `k` of `models[assign[k]]` for `k` in `0..assign.len()`, with master seed
/// `seed`, on the current rayon pool, recording the series of `plan` (which every model must
/// share: parameters change values, not series). Replicate `k` draws the same random numbers
/// whichever model it runs, so two calls with the same seed and assignment are paired
/// replicate by replicate.
pub fn run_assigned(
    models: &[Scenario],
    assign: &[usize],
    seed: u64,
    plan: Arc<Plan>,
) -> Result<EnsembleResult, EngineError> {
    let start = Instant::now();
    let results: Vec<(Vec<Row>, RunStats)> = assign
        .par_iter()
        .enumerate()
        .with_max_len(1)
        .map(|(k, &m)| {
            let mut rec = Recorder::new(plan.clone());
            let stats = Simulation::new(&models[m].model).run(seed, k as u32, &mut rec)?;
            Ok((rec.rows, stats))
        })
        .collect::<Result<_, EngineError>>()?;
    let seconds = start.elapsed().as_secs_f64();
    let (replicates, stats) = results.into_iter().unzip();
    Ok(EnsembleResult {
        plan,
        replicates,
        stats,
        seconds,
    })
}
