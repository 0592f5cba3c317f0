//! Checkpoints: the state of a calibration after every generation, written atomically while it
//! runs (to `.NAME.resume/checkpoint.json` beside the output folder, so a previous finished
//! calibration stays intact until the new one is complete) and kept in the finished folder.
//!
//! A checkpoint is sealed with a BLAKE3 checksum of its own contents and, before a calibration
//! resumes from it, checked against the calibration it is to continue: format, checksum, the
//! calibration file, scenario and data (fingerprint), the seed, the number of particles, every
//! particle's dimensions and values (finite, inside the priors, within the tolerance), finite
//! positive weights summing to one, and a history of one entry per generation. A checkpoint
//! that fails is refused with the reason, never resumed from.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::smc::{GenerationStats, Population};
use super::{CalibrationError, Problem, StopReason};

/// Everything needed to continue: written after every generation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version.
    pub version: u32,
    /// Hash of the calibration file, the resolved scenario and the targets' data.
    pub fingerprint: String,
    /// The sampler's master seed.
    pub seed: u64,
    /// The latest complete population.
    pub population: Population,
    /// One entry per complete generation.
    pub history: Vec<GenerationStats>,
    /// Every complete population before the latest, generation 0 first (`posterior_all.csv`).
    #[serde(default)]
    pub earlier: Vec<Population>,
    /// Simulations run, all generations (including incomplete ones).
    pub simulations: u64,
    /// Wall-clock seconds spent, all sessions.
    pub wall_seconds: f64,
    /// Set when the calibration has stopped.
    pub stopped: Option<StopReason>,
    /// BLAKE3 of the checkpoint written with this field empty (see [`Checkpoint::seal`]).
    #[serde(default)]
    pub checksum: String,
}

/// Format of checkpoints written by this version.
pub const VERSION: u32 = 4;

/// Name of the checkpoint file.
pub const FILE: &str = "checkpoint.json";

impl Checkpoint {
    /// The state after generation 0 (its wall-clock time still to be set).
    pub fn first(problem: &Problem, population: Population, stats: GenerationStats) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            fingerprint: problem.fingerprint(),
            seed: problem.settings().seed,
            population,
            simulations: stats.simulations,
            history: vec![stats],
            earlier: Vec::new(),
            wall_seconds: 0.0,
            stopped: None,
            checksum: String::new(),
        }
    }

    /// Adds a complete generation: it becomes the population, the previous one joins the
    /// earlier ones.
    pub fn advance(&mut self, population: Population, stats: GenerationStats) {
        self.simulations += stats.simulations;
        let previous = std::mem::replace(&mut self.population, population);
        self.earlier.push(previous);
        self.history.push(stats);
    }

    /// Sets the checksum (after any change, before writing).
    pub fn seal(&mut self) {
        self.checksum = self.digest();
    }

    /// The file's bytes, sealed.
    pub fn to_json(&self) -> Vec<u8> {
        self.sealed_json()
    }
}

impl Sealed for Checkpoint {
    fn checksum(&self) -> &str {
        &self.checksum
    }

    fn checksum_mut(&mut self) -> &mut String {
        &mut self.checksum
    }
}

/// A JSON document that carries a BLAKE3 checksum of itself, taken with the checksum empty: a
/// checkpoint, or a shard of a calibration round.
pub(crate) trait Sealed: Serialize + Clone {
    /// The checksum as read or set.
    fn checksum(&self) -> &str;

    /// The checksum field.
    fn checksum_mut(&mut self) -> &mut String;

    /// The checksum of the contents: BLAKE3 of the JSON with the checksum empty.
    fn digest(&self) -> String {
        let mut unsealed = self.clone();
        unsealed.checksum_mut().clear();
        let json = serde_json::to_vec(&unsealed).expect("plain data");
        blake3::hash(&json).to_hex().to_string()
    }

    /// Whether the checksum matches the contents.
    fn intact(&self) -> bool {
        self.checksum() == self.digest()
    }

    /// The JSON with the checksum set.
    fn sealed_json(&self) -> Vec<u8> {
        let mut sealed = self.clone();
        *sealed.checksum_mut() = self.digest();
        serde_json::to_vec(&sealed).expect("plain data")
    }
}

/// Writes `state` to `dir/checkpoint.json` atomically.
pub fn write(dir: &Path, state: &Checkpoint) -> Result<(), CalibrationError> {
    let path = dir.join(FILE);
    std::fs::create_dir_all(dir)
        .and_then(|()| crate::output::write_atomic(&path, &state.to_json()))
        .map_err(|e| {
            CalibrationError::Io(format!("{}: cannot write checkpoint: {e}", path.display()))
        })
}

/// Reads the checkpoint at `path` and checks that `problem` can continue from it.
pub fn read(path: &Path, problem: &Problem) -> Result<Checkpoint, CalibrationError> {
    let refuse = |why: String| {
        CalibrationError::Checkpoint(format!(
            "{}: cannot resume: {why} (run without --resume to start afresh)",
            path.display()
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| refuse(e.to_string()))?;
    let state: Checkpoint = serde_json::from_slice(&bytes)
        .map_err(|e| refuse(format!("not a checkpoint (damaged or truncated): {e}")))?;
    check(&state, problem).map_err(refuse)?;
    Ok(state)
}

/// Why `state` cannot be continued by `problem`, if it cannot.
fn check(state: &Checkpoint, problem: &Problem) -> Result<(), String> {
    if state.version != VERSION {
        return Err(format!(
            "checkpoint format {} is not {VERSION} (written by another diaspora version)",
            state.version
        ));
    }
    if !state.intact() {
        return Err("its contents do not match its checksum (damaged or edited)".into());
    }
    if state.fingerprint != problem.fingerprint() {
        return Err(
            "the checkpoint belongs to a different calibration file, scenario or data".into(),
        );
    }
    let settings = problem.settings();
    if state.seed != settings.seed {
        return Err(format!(
            "seed {} in the checkpoint, {} in the calibration file",
            state.seed, settings.seed
        ));
    }
    let pop = &state.population;
    if pop.particles.len() != settings.particles {
        return Err(format!(
            "{} particles in the checkpoint, expected {}",
            pop.particles.len(),
            settings.particles
        ));
    }
    check_tolerance(pop)?;
    let names = problem.space.names();
    let bounds = problem.space.bounds();
    let mut total = 0.0;
    for (k, p) in pop.particles.iter().enumerate() {
        if p.theta.len() != names.len() || p.z.len() != names.len() {
            return Err(format!(
                "particle {k} has {} values ({} working coordinates), expected {}",
                p.theta.len(),
                p.z.len(),
                names.len()
            ));
        }
        if !(p.weight.is_finite() && p.weight > 0.0) {
            return Err(format!(
                "particle {k} has weight {}, expected a finite number > 0",
                p.weight
            ));
        }
        if !(p.distance.is_finite() && p.distance >= 0.0 && p.distance <= pop.tolerance) {
            return Err(format!(
                "particle {k} has distance {}, expected a number in [0, {}] (the tolerance)",
                p.distance, pop.tolerance
            ));
        }
        for (j, &(lo, hi)) in bounds.iter().enumerate() {
            let theta = p.theta[j];
            if !(theta >= lo && theta <= hi && p.z[j].is_finite()) {
                return Err(format!(
                    "particle {k}: {} = {theta} is outside its prior [{lo}, {hi}]",
                    names[j]
                ));
            }
        }
        total += p.weight;
    }
    if (total - 1.0).abs() > 1e-6 {
        return Err(format!("weights sum to {total}, expected 1"));
    }
    let generations = pop.generation as usize + 1;
    if state.history.len() != generations
        || state
            .history
            .iter()
            .enumerate()
            .any(|(g, h)| h.generation as usize != g)
    {
        return Err(format!(
            "history has {} entries, expected one for each of generations 0 to {}",
            state.history.len(),
            pop.generation
        ));
    }
    if state.earlier.len() != pop.generation as usize
        || state
            .earlier
            .iter()
            .enumerate()
            .any(|(g, p)| p.generation as usize != g || p.particles.len() != settings.particles)
    {
        return Err(format!(
            "{} earlier populations, expected one of {} particles for each of generations 0 to {}",
            state.earlier.len(),
            settings.particles,
            pop.generation.saturating_sub(1)
        ));
    }
    Ok(())
}

fn check_tolerance(pop: &Population) -> Result<(), String> {
    let ok = if pop.generation == 0 {
        pop.tolerance == f64::INFINITY
    } else {
        pop.tolerance.is_finite() && pop.tolerance >= 0.0
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "generation {} has tolerance {}, expected {}",
            pop.generation,
            pop.tolerance,
            if pop.generation == 0 {
                "infinity (the prior sample)"
            } else {
                "a finite number >= 0"
            }
        ))
    }
}
