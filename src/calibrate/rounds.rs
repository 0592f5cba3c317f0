//! A calibration evaluated in rounds of shards — on a Slurm cluster, one job array per round
//! — with a driver step between rounds, giving the posterior `diaspora calibrate` gives in one
//! process.
//!
//! A round is a block of proposal indices of the current generation, cut into shards of
//! contiguous indices. A shard ([`run_shard`]) proposes and simulates its indices exactly as
//! the local loop would (the proposals of a generation are a function of the seed, the
//! generation, the index and the previous population, read from the checkpoint) and writes
//! what each gave. The driver ([`drive`]) reads every shard of the generation so far and feeds
//! them, batch by batch in proposal order, to the same acceptance rule the local loop uses
//! ([`smc::Drawing`]): batches of `algorithm.batch`, accepted by index until `N` are. When a
//! batch it needs has not been evaluated, it plans the next round; when the generation is
//! complete, it weighs it, writes the checkpoint and plans the next generation's first round;
//! when a stopping rule holds, the calibration has stopped. Evaluating ahead of the need
//! costs simulations but changes nothing: the population, the history (but for its timings)
//! and the posterior outputs are byte-identical to a local run's.
//!
//! The work folder, `NAME.slurm/` beside the output folder `NAME/`:
//!
//! * `slurm.toml` — the record of `calibrate --slurm`: calibration file, output folder,
//!   checkpoint folder, fingerprint, shards per round, resubmissions allowed, start time;
//! * `round.toml` — the round being evaluated: generation, tolerance, proposals, the
//!   checkpoint it was planned from (`basis`), its plan hash, and the earlier rounds of the
//!   generation;
//! * `rounds/gGGGG/rRRR/shard-IIIII-of-KKKKK.json` — a shard's outcomes, written atomically and
//!   sealed with a BLAKE3 checksum; removed once their generation is complete;
//! * `finished` — present once the calibration has stopped.
//!
//! The state between rounds is the ordinary checkpoint (`.NAME.resume/checkpoint.json`), so a
//! calibration started on a cluster can be resumed here with `--resume`, and the other way
//! round.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, Checkpoint, Sealed};
use super::smc::{self, Drawing, Evaluated, GenerationStats, Interrupted, Proposals, Simulated};
use super::{CalibrationError, Problem, Progress, interruption, next_tolerance, resume_dir};
use crate::output::{Target, write_atomic};
use crate::sweep::compress;

/// The record of `calibrate --slurm` in the work folder.
pub const RECORD: &str = "slurm.toml";
/// The round being evaluated.
pub const ROUND: &str = "round.toml";
/// Present once the calibration has stopped.
const FINISHED: &str = "finished";
/// Format of shard files written by this version.
const FORMAT: u32 = 1;
/// The `basis` of generation 0's rounds, which start from the prior and no checkpoint.
const PRIOR: &str = "prior";

fn work_error(path: &Path, message: impl std::fmt::Display) -> CalibrationError {
    CalibrationError::Work(format!("{}: {message}", path.display()))
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> CalibrationError {
    CalibrationError::Io(format!("{}: {e}", path.display()))
}

/// Seconds since the Unix epoch (times that must survive from one job to the next).
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What `calibrate --slurm` recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The diaspora version that wrote it.
    pub diaspora: String,
    /// The calibration file, absolute.
    pub calibration: PathBuf,
    /// The calibration file as the user named it (for the outputs' headers).
    pub named: PathBuf,
    /// The output folder, absolute.
    pub output: PathBuf,
    /// Where the checkpoint lives while the calibration runs (`.NAME.resume/`).
    pub checkpoints: PathBuf,
    /// The calibration's fingerprint (file, scenario, data) when it was prepared.
    pub fingerprint: String,
    /// Shards per round.
    pub shards: usize,
    /// Times a round's missing shards are resubmitted before the driver gives up.
    pub retries: u32,
    /// At most this many array tasks at once.
    pub max_parallel: Option<usize>,
    /// When it was prepared (seconds since the Unix epoch).
    pub started: f64,
    /// Wall-clock seconds of the checkpoint it resumed from (0 when it started afresh).
    pub earlier: f64,
}

/// One round of a generation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    /// The generation.
    pub generation: u32,
    /// The round within the generation, from 0.
    pub round: u32,
    /// The generation's tolerance (infinite for generation 0).
    pub tolerance: f64,
    /// First proposal index of the round.
    pub first: u64,
    /// One past its last.
    pub end: u64,
    /// First proposal index of each earlier round of the generation (each ends where the next
    /// begins; the last where this one does).
    pub earlier: Vec<u64>,
    /// Shards.
    pub shards: usize,
    /// The checksum of the checkpoint the generation starts from (`prior` for generation 0).
    pub basis: String,
    /// Hash of everything the round's outcomes depend on.
    pub plan: String,
    /// Times its shards were submitted (1, then one more per resubmission).
    pub attempts: u32,
    /// When the generation's first round was planned (seconds since the Unix epoch).
    pub generation_started: f64,
}

impl Round {
    /// Proposals of shard `i`: `[first + ⌊len·i/K⌋, first + ⌊len·(i+1)/K⌋)`.
    pub fn slice(&self, i: usize) -> std::ops::Range<u64> {
        slice(self.first, self.end, self.shards, i)
    }

    fn label(&self) -> String {
        format!("generation {}, round {}", self.generation, self.round)
    }
}

fn slice(first: u64, end: u64, shards: usize, i: usize) -> std::ops::Range<u64> {
    let len = u128::from(end - first);
    let at = |i: usize| first + (len * i as u128 / shards as u128) as u64;
    at(i)..at(i + 1)
}

/// The plan hash of a round: the calibration, the checkpoint it starts from, the generation,
/// tolerance, proposals and shards, and the diaspora version (which proposes and simulates).
fn plan_hash(
    fingerprint: &str,
    basis: &str,
    generation: u32,
    tolerance: f64,
    proposals: std::ops::Range<u64>,
    shards: usize,
) -> String {
    let text = format!(
        "diaspora calibration round\n{}\n{fingerprint}\n{basis}\n{generation}\n{:016x}\n{}\n{}\n{shards}\n",
        env!("CARGO_PKG_VERSION"),
        tolerance.to_bits(),
        proposals.start,
        proposals.end
    );
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// What one proposal gave, as a shard keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// Outside the prior: not simulated.
    Outside,
    /// Simulated; the point is kept only where the distance is within the tolerance (the
    /// only proposals that can be accepted).
    Simulated {
        /// The distance; none when infinite (stopped early, or refused by the scenario).
        distance: Option<f64>,
        /// Months simulated.
        months: u64,
        /// Months of a full run.
        full_months: u64,
        /// Thread-seconds it took.
        seconds: f64,
        /// Working-space point.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        z: Option<Vec<f64>>,
        /// Parameter values.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        theta: Option<Vec<f64>>,
    },
    /// The simulation failed.
    Failed {
        /// Why.
        message: String,
    },
    /// The prior of this working coordinate could not be sampled.
    Prior {
        /// The coordinate.
        coordinate: usize,
    },
}

impl Outcome {
    fn of(e: Result<Evaluated, Interrupted>, tolerance: f64) -> Outcome {
        match e {
            Ok(e) => match e.simulated {
                None => Outcome::Outside,
                Some(s) => {
                    let keep = e.acceptable(tolerance);
                    Outcome::Simulated {
                        distance: s.distance.is_finite().then_some(s.distance),
                        months: s.months,
                        full_months: s.full_months,
                        seconds: e.seconds,
                        z: keep.then_some(e.z),
                        theta: keep.then_some(e.theta),
                    }
                }
            },
            Err(Interrupted::Failed(message)) => Outcome::Failed { message },
            Err(Interrupted::Prior(coordinate)) => Outcome::Prior { coordinate },
            Err(Interrupted::Budget) => unreachable!("a single proposal has no budget"),
        }
    }

    /// Back to what the acceptance rule takes; `None` for a point that should have been kept.
    fn evaluated(self, tolerance: f64) -> Option<Result<Evaluated, Interrupted>> {
        Some(match self {
            Outcome::Outside => Ok(Evaluated {
                z: Vec::new(),
                theta: Vec::new(),
                simulated: None,
                seconds: 0.0,
            }),
            Outcome::Simulated {
                distance,
                months,
                full_months,
                seconds,
                z,
                theta,
            } => {
                let e = Evaluated {
                    z: z.unwrap_or_default(),
                    theta: theta.unwrap_or_default(),
                    simulated: Some(Simulated {
                        distance: distance.unwrap_or(f64::INFINITY),
                        months,
                        full_months,
                    }),
                    seconds,
                };
                if e.acceptable(tolerance) && (e.z.is_empty() || e.theta.is_empty()) {
                    return None;
                }
                Ok(e)
            }
            Outcome::Failed { message } => Err(Interrupted::Failed(message)),
            Outcome::Prior { coordinate } => Err(Interrupted::Prior(coordinate)),
        })
    }
}

/// A shard's file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardFile {
    format: u32,
    diaspora: String,
    plan: String,
    generation: u32,
    round: u32,
    shard: usize,
    shards: usize,
    first: u64,
    end: u64,
    /// Wall-clock seconds the shard took.
    seconds: f64,
    outcomes: Vec<Outcome>,
    checksum: String,
}

impl Sealed for ShardFile {
    fn checksum(&self) -> &str {
        &self.checksum
    }

    fn checksum_mut(&mut self) -> &mut String {
        &mut self.checksum
    }
}

/// What a shard file must be.
struct Expected<'a> {
    plan: &'a str,
    generation: u32,
    round: u32,
    shard: usize,
    shards: usize,
    proposals: std::ops::Range<u64>,
}

/// A shard file that is complete and belongs to `expected`, or why not.
fn read_shard(path: &Path, expected: &Expected<'_>) -> Result<ShardFile, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("no results (its task failed, was lost, or has not run)".into());
        }
        Err(e) => return Err(format!("{}: cannot be read: {e}", path.display())),
    };
    let file: ShardFile = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{}: not a shard file (damaged or truncated): {e}",
            path.display()
        )
    })?;
    let why = if file.format != FORMAT {
        format!(
            "format {} is not {FORMAT} (written by diaspora {})",
            file.format, file.diaspora
        )
    } else if !file.intact() {
        "its contents do not match its checksum (damaged or edited)".into()
    } else if file.plan != expected.plan {
        format!(
            "belongs to another plan (generation {}, round {}, plan {}), not to generation {}, round {} (plan {})",
            file.generation,
            file.round,
            short(&file.plan),
            expected.generation,
            expected.round,
            short(expected.plan)
        )
    } else if (file.shard, file.shards, file.first..file.end)
        != (expected.shard, expected.shards, expected.proposals.clone())
    {
        format!(
            "holds shard {} of {} (proposals {}..{}), expected shard {} of {} (proposals {}..{})",
            file.shard,
            file.shards,
            file.first,
            file.end,
            expected.shard,
            expected.shards,
            expected.proposals.start,
            expected.proposals.end
        )
    } else if file.outcomes.len() as u64 != file.end - file.first {
        format!(
            "holds {} outcomes for {} proposals",
            file.outcomes.len(),
            file.end - file.first
        )
    } else {
        return Ok(file);
    };
    Err(format!("{}: {why}", path.display()))
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// An opened work folder.
#[derive(Clone, Debug)]
pub struct Work {
    /// The folder.
    pub dir: PathBuf,
    /// Its record.
    pub record: Record,
}

/// The work folder of the output folder `target`: `NAME.slurm/` beside `NAME/` (an absolute
/// path, as the jobs need).
pub fn work_dir(target: &Target) -> PathBuf {
    let out = absolute(target.path());
    let name = out.file_name().map_or_else(
        || "calibration".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    out.with_file_name(format!("{name}.slurm"))
}

/// `path` from the root (it is left as it is if the current folder is unknown).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// How [`prepare`] started.
pub struct Prepared {
    /// The work folder.
    pub work: Work,
    /// The generation the checkpoint resumed from holds, if `--resume`.
    pub resumed: Option<u32>,
    /// Whether a checkpoint of an earlier, unfinished calibration was discarded.
    pub discarded: bool,
}

/// Sets up the work folder of `problem` writing to `target` (`calibrate --slurm`): from the
/// checkpoint that `--resume` would continue from, or afresh (a running checkpoint is then
/// discarded, as a local run without `--resume` replaces it).
pub fn prepare(
    problem: &Problem,
    target: &Target,
    named: &Path,
    shards: usize,
    retries: u32,
    max_parallel: Option<usize>,
    resume: bool,
) -> Result<Prepared, CalibrationError> {
    let dir = work_dir(target);
    if dir.exists() && !dir.join(RECORD).is_file() {
        let empty = std::fs::read_dir(&dir)
            .map_err(|e| io_error(&dir, e))?
            .next()
            .is_none();
        if !empty {
            return Err(work_error(
                &dir,
                format!(
                    "exists and is not the Slurm folder of a calibration (no {RECORD}): move it, or choose another --out"
                ),
            ));
        }
    }
    let checkpoints = absolute(&resume_dir(target));
    let running = checkpoints.join(checkpoint::FILE);
    let mut discarded = false;
    let mut earlier = 0.0;
    let mut resumed = None;
    if resume {
        let state = super::resume_from(target, problem)?;
        // From a finished folder's checkpoint: the running one is where the driver reads.
        checkpoint::write(&checkpoints, &state)?;
        earlier = state.wall_seconds;
        resumed = Some(state.population.generation);
    } else if running.exists() {
        std::fs::remove_file(&running).map_err(|e| io_error(&running, e))?;
        discarded = true;
    }
    let calibration = absolute(named);
    let record = Record {
        diaspora: env!("CARGO_PKG_VERSION").into(),
        calibration,
        named: named.to_path_buf(),
        output: absolute(target.path()),
        checkpoints,
        fingerprint: problem.fingerprint(),
        shards,
        retries,
        max_parallel,
        started: now(),
        earlier,
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    let rounds = dir.join("rounds");
    if rounds.exists() {
        std::fs::remove_dir_all(&rounds).map_err(|e| io_error(&rounds, e))?;
    }
    for name in [ROUND, FINISHED] {
        let path = dir.join(name);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        }
    }
    let text = toml::to_string(&record).expect("a record is plain data");
    let path = dir.join(RECORD);
    write_atomic(&path, text.as_bytes()).map_err(|e| io_error(&path, e))?;
    Ok(Prepared {
        work: Work { dir, record },
        resumed,
        discarded,
    })
}

impl Work {
    /// Opens the work folder `dir` (written by `calibrate --slurm`).
    pub fn open(dir: &Path) -> Result<Work, CalibrationError> {
        let path = dir.join(RECORD);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            work_error(
                dir,
                format!(
                    "not the Slurm folder of a calibration ({RECORD}: {e}); write it with `diaspora calibrate CALIBRATION.toml --slurm`"
                ),
            )
        })?;
        let record: Record =
            toml::from_str(&text).map_err(|e| work_error(&path, one_line(&e.to_string())))?;
        if record.diaspora != env!("CARGO_PKG_VERSION") {
            return Err(work_error(
                &path,
                format!(
                    "written by diaspora {}, this is {}: prepare it again with this version (`calibrate --slurm --resume` continues from the checkpoint)",
                    record.diaspora,
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        if record.shards == 0 {
            return Err(work_error(&path, "shards: expected at least 1, found 0"));
        }
        Ok(Work {
            dir: dir.to_path_buf(),
            record,
        })
    }

    /// Refuses a calibration that is not the one prepared (its file, scenario or data changed).
    pub fn check(&self, problem: &Problem) -> Result<(), CalibrationError> {
        if problem.fingerprint() == self.record.fingerprint {
            Ok(())
        } else {
            Err(work_error(
                &self.record.calibration,
                format!(
                    "the calibration file, its scenario or its data changed since `calibrate --slurm` prepared {}: prepare it again",
                    self.dir.display()
                ),
            ))
        }
    }

    fn round_path(&self) -> PathBuf {
        self.dir.join(ROUND)
    }

    fn generation_dir(&self, generation: u32) -> PathBuf {
        self.dir.join("rounds").join(format!("g{generation:04}"))
    }

    fn shard_path(&self, generation: u32, round: u32, shard: usize, shards: usize) -> PathBuf {
        self.generation_dir(generation)
            .join(format!("r{round:03}"))
            .join(format!("shard-{shard:05}-of-{shards:05}.json"))
    }

    /// The command that resubmits `shards` of the current round, with a driver after them.
    pub fn resubmit(&self, shards: &[usize]) -> String {
        format!(
            "bash {} --array={}",
            self.dir.join("submit.sh").display(),
            compress(shards)
        )
    }

    /// The round being evaluated, if any.
    pub fn round(&self) -> Result<Option<Round>, CalibrationError> {
        let path = self.round_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|e| work_error(&path, one_line(&e.to_string()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    fn write_round(&self, round: &Round) -> Result<(), CalibrationError> {
        let path = self.round_path();
        let text = toml::to_string(round).expect("a round is plain data");
        write_atomic(&path, text.as_bytes()).map_err(|e| io_error(&path, e))
    }

    /// The calibration's checkpoint, if one has been written.
    fn state(&self, problem: &Problem) -> Result<Option<Checkpoint>, CalibrationError> {
        let path = self.record.checkpoints.join(checkpoint::FILE);
        if path.exists() {
            checkpoint::read(&path, problem).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Wall-clock seconds of the calibration so far, queueing included: since it was prepared,
    /// and before that, if it resumed.
    pub fn wall(&self) -> f64 {
        self.record.earlier + (now() - self.record.started).max(0.0)
    }
}

/// The TOML parser's multi-line message on one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The generation a state leads to: its index, its tolerance and the basis of its rounds.
struct Next {
    generation: u32,
    tolerance: f64,
    basis: String,
}

fn next_of(state: Option<&Checkpoint>, tolerance: f64) -> Next {
    match state {
        None => Next {
            generation: 0,
            tolerance: f64::INFINITY,
            basis: PRIOR.into(),
        },
        Some(s) => Next {
            generation: s.population.generation + 1,
            tolerance,
            basis: s.checksum.clone(),
        },
    }
}

/// What a shard did.
pub struct ShardDone {
    /// The round.
    pub round: Round,
    /// The shard.
    pub shard: usize,
    /// Its proposals.
    pub proposals: std::ops::Range<u64>,
    /// How many were simulated.
    pub simulated: usize,
    /// Its file.
    pub path: PathBuf,
    /// It was already done for this plan, and left as it was.
    pub skipped: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Evaluates shard `shard` of the current round (`round.toml`) and writes its file; a file
/// already complete for this plan is kept unless `force`.
pub fn run_shard(
    work: &Work,
    problem: &Problem,
    shard: usize,
    force: bool,
) -> Result<ShardDone, CalibrationError> {
    let start = Instant::now();
    let round = work.round()?.ok_or_else(|| {
        work_error(
            &work.dir,
            format!(
                "no round to evaluate ({ROUND} is missing): the driver plans rounds (`diaspora calibrate-slurm drive {}`)",
                work.dir.display()
            ),
        )
    })?;
    if shard >= round.shards {
        return Err(work_error(
            &work.round_path(),
            format!(
                "shard {shard} is out of range: the round has {} shard(s), 0 to {}",
                round.shards,
                round.shards - 1
            ),
        ));
    }
    let state = if round.generation > 0 {
        work.state(problem)?
    } else {
        None
    };
    let tolerance = match &state {
        Some(s) => next_tolerance(problem, s).unwrap_or(f64::NAN),
        None => f64::INFINITY,
    };
    let next = next_of(state.as_ref(), tolerance);
    let plan = plan_hash(
        &problem.fingerprint(),
        &next.basis,
        next.generation,
        next.tolerance,
        round.first..round.end,
        round.shards,
    );
    if (next.generation, next.basis.as_str(), plan.as_str())
        != (round.generation, round.basis.as_str(), round.plan.as_str())
    {
        return Err(work_error(
            &work.round_path(),
            format!(
                "{} was not planned from the calibration's checkpoint as it is now (it leads to generation {}): run the driver (`diaspora calibrate-slurm drive {}`)",
                round.label(),
                next.generation,
                work.dir.display()
            ),
        ));
    }
    let proposals = round.slice(shard);
    let path = work.shard_path(round.generation, round.round, shard, round.shards);
    let expected = Expected {
        plan: &round.plan,
        generation: round.generation,
        round: round.round,
        shard,
        shards: round.shards,
        proposals: proposals.clone(),
    };
    let kept = if force {
        None
    } else {
        read_shard(&path, &expected).ok()
    };
    let skipped = kept.is_some();
    let file = match kept {
        Some(file) => file,
        None => {
            let file = evaluate_shard(problem, state.as_ref(), &round, shard, tolerance, start);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            write_atomic(&path, &file.sealed_json()).map_err(|e| io_error(&path, e))?;
            file
        }
    };
    Ok(ShardDone {
        round,
        shard,
        proposals,
        simulated: simulated(&file.outcomes),
        path,
        skipped,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Shard `shard` of `round`, evaluated: each proposal as the local loop would evaluate it.
fn evaluate_shard(
    problem: &Problem,
    state: Option<&Checkpoint>,
    round: &Round,
    shard: usize,
    tolerance: f64,
    start: Instant,
) -> ShardFile {
    let settings = problem.settings();
    let sampler = Proposals::new(state.map(|s| &s.population), &problem.space, &settings);
    let proposals = round.slice(shard);
    let outcomes: Vec<Outcome> = proposals
        .clone()
        .into_par_iter()
        .map(|k| Outcome::of(sampler.evaluate(k, tolerance, problem), tolerance))
        .collect();
    ShardFile {
        format: FORMAT,
        diaspora: env!("CARGO_PKG_VERSION").into(),
        plan: round.plan.clone(),
        generation: round.generation,
        round: round.round,
        shard,
        shards: round.shards,
        first: proposals.start,
        end: proposals.end,
        seconds: start.elapsed().as_secs_f64(),
        outcomes,
        checksum: String::new(),
    }
}

fn simulated(outcomes: &[Outcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Simulated { .. }))
        .count()
}

/// What the driver decided.
#[derive(Debug)]
pub enum Step {
    /// Evaluate these shards of `round` (every shard of a new round, or the ones to
    /// resubmit), then drive again.
    Evaluate {
        /// The round.
        round: Round,
        /// The shards to evaluate.
        shards: Vec<usize>,
        /// Why shards are resubmitted (empty for a new round).
        resubmitted: Vec<(usize, String)>,
    },
    /// The calibration has stopped: its final state (also in the checkpoint), to write the
    /// outputs from.
    Stopped(Box<Checkpoint>),
    /// The calibration had stopped and its outputs were written: nothing is left to do.
    Finished,
}

/// How far the evaluated proposals take the generation.
enum Replayed {
    /// Shards of the current round are missing or invalid.
    Missing(Round, Vec<(usize, String)>),
    /// `N` particles accepted.
    Complete(Box<(super::smc::Population, GenerationStats)>),
    /// The budget ran out, or a simulation or the prior failed.
    Interrupted(Interrupted),
    /// The batch `batch` reaches past the evaluated proposals (`0..evaluated`).
    Needs {
        batch: std::ops::Range<u64>,
        evaluated: u64,
        tally: smc::Tally,
        rounds: Vec<u64>,
        generation_started: f64,
    },
}

/// One driver step: reads the shards of the generation so far and decides, with the local
/// loop's acceptance rule, whether the generation is complete (then weighs it, writes the
/// checkpoint and goes on to the next generation), needs another round (planned and
/// returned), or stops the calibration. Missing shards of the current round are returned for
/// resubmission up to `retries` times, then refused with the command that resubmits them.
pub fn drive(
    work: &Work,
    problem: &Problem,
    progress: &mut dyn Progress,
) -> Result<Step, CalibrationError> {
    work.check(problem)?;
    let a = &problem.config.algorithm;
    let mut state = work.state(problem)?;
    if state.is_none() && work.dir.join(FINISHED).exists() {
        return Ok(Step::Finished);
    }
    loop {
        if let Some(s) = &state
            && s.stopped.is_some()
        {
            return Ok(Step::Stopped(Box::new(s.clone())));
        }
        let tolerance = match &mut state {
            None => f64::INFINITY,
            Some(s) => match next_tolerance(problem, s) {
                Ok(t) => t,
                Err(reason) => {
                    s.stopped = Some(reason);
                    return stop(work, s);
                }
            },
        };
        let next = next_of(state.as_ref(), tolerance);
        let round = work
            .round()?
            .filter(|r| r.generation == next.generation && r.basis == next.basis);
        match replay(work, problem, state.as_ref(), &next, round)? {
            Replayed::Missing(round, missing) => return resubmit(work, round, missing),
            Replayed::Complete(done) => {
                let (population, stats) = *done;
                progress.generation_done(&stats);
                let mut s = match state.take() {
                    None => Checkpoint::first(problem, population, stats),
                    Some(mut s) => {
                        s.advance(population, stats);
                        s
                    }
                };
                s.wall_seconds = work.wall();
                s.seal();
                checkpoint::write(&work.record.checkpoints, &s)?;
                clear_rounds(work)?;
                state = Some(s);
            }
            Replayed::Interrupted(e) => {
                let Some(s) = state.as_mut() else {
                    interruption(problem, e, 0)?;
                    return Err(CalibrationError::NoPopulation);
                };
                s.stopped = Some(interruption(problem, e, s.simulations)?);
                return stop(work, s);
            }
            Replayed::Needs {
                batch,
                evaluated,
                tally,
                rounds,
                generation_started,
            } => {
                // The wall-clock guard, checked where the local loop checks it: before a
                // batch is evaluated.
                if a.max_seconds.is_some_and(|max| work.wall() >= max) {
                    let Some(s) = state.as_mut() else {
                        return Err(CalibrationError::NoPopulation);
                    };
                    s.stopped = Some(interruption(problem, Interrupted::Budget, s.simulations)?);
                    return stop(work, s);
                }
                if rounds.is_empty() {
                    // Leftovers of a round planned from another state.
                    clear_rounds(work)?;
                }
                let end = round_end(problem, state.as_ref(), &batch, tally);
                let round = Round {
                    generation: next.generation,
                    round: rounds.len() as u32,
                    tolerance: next.tolerance,
                    first: evaluated,
                    end,
                    earlier: rounds,
                    shards: work.record.shards,
                    plan: plan_hash(
                        &problem.fingerprint(),
                        &next.basis,
                        next.generation,
                        next.tolerance,
                        evaluated..end,
                        work.record.shards,
                    ),
                    basis: next.basis,
                    attempts: 1,
                    generation_started,
                };
                work.write_round(&round)?;
                return Ok(Step::Evaluate {
                    shards: (0..round.shards).collect(),
                    round,
                    resubmitted: Vec::new(),
                });
            }
        }
    }
}

/// Records the stop in the checkpoint and returns it. The work folder is marked finished, so
/// that a driver run again once the outputs are written (and the checkpoint removed with the
/// rest of the running state) does not take the calibration for one not yet started.
fn stop(work: &Work, s: &mut Checkpoint) -> Result<Step, CalibrationError> {
    s.wall_seconds = work.wall();
    checkpoint::write(&work.record.checkpoints, s)?;
    clear_rounds(work)?;
    let finished = work.dir.join(FINISHED);
    write_atomic(&finished, b"").map_err(|e| io_error(&finished, e))?;
    Ok(Step::Stopped(Box::new(s.clone())))
}

/// Removes the rounds of a generation that is complete.
fn clear_rounds(work: &Work) -> Result<(), CalibrationError> {
    let rounds = work.dir.join("rounds");
    if rounds.exists() {
        std::fs::remove_dir_all(&rounds).map_err(|e| io_error(&rounds, e))?;
    }
    let round = work.round_path();
    if round.exists() {
        std::fs::remove_file(&round).map_err(|e| io_error(&round, e))?;
    }
    Ok(())
}

/// The missing shards again, while resubmissions are left; else the error that names them and
/// the command that resubmits them.
fn resubmit(
    work: &Work,
    mut round: Round,
    missing: Vec<(usize, String)>,
) -> Result<Step, CalibrationError> {
    let ids: Vec<usize> = missing.iter().map(|m| m.0).collect();
    if round.attempts > work.record.retries {
        let mut why = String::new();
        for (i, reason) in &missing {
            let _ = write!(why, "shard {i}: {reason}; ");
        }
        return Err(CalibrationError::Shards(format!(
            "{}: {}: {} of {} shard(s) not done ({}) after {} submission(s): {why}see {}/logs/shard-*_<shard>.out; resubmit with: {}",
            work.dir.display(),
            round.label(),
            ids.len(),
            round.shards,
            compress(&ids),
            round.attempts,
            work.dir.display(),
            work.resubmit(&ids)
        )));
    }
    round.attempts += 1;
    work.write_round(&round)?;
    Ok(Step::Evaluate {
        round,
        shards: ids,
        resubmitted: missing,
    })
}

/// Feeds the generation's evaluated proposals, in proposal order, to the acceptance rule.
fn replay(
    work: &Work,
    problem: &Problem,
    state: Option<&Checkpoint>,
    next: &Next,
    round: Option<Round>,
) -> Result<Replayed, CalibrationError> {
    let fingerprint = problem.fingerprint();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut rounds = Vec::new();
    let mut generation_started = now();
    if let Some(round) = round {
        generation_started = round.generation_started;
        let mut starts = round.earlier.clone();
        starts.push(round.first);
        let ends = starts.iter().skip(1).copied().chain([round.end]);
        let mut missing = Vec::new();
        for (r, (first, end)) in starts.iter().copied().zip(ends).enumerate() {
            let current = r == starts.len() - 1;
            let plan = plan_hash(
                &fingerprint,
                &next.basis,
                next.generation,
                next.tolerance,
                first..end,
                round.shards,
            );
            if current && plan != round.plan {
                return Err(work_error(
                    &work.round_path(),
                    format!(
                        "plan {} does not match the round it describes ({}): edited?",
                        short(&round.plan),
                        short(&plan)
                    ),
                ));
            }
            for i in 0..round.shards {
                let path = work.shard_path(next.generation, r as u32, i, round.shards);
                let expected = Expected {
                    plan: &plan,
                    generation: next.generation,
                    round: r as u32,
                    shard: i,
                    shards: round.shards,
                    proposals: slice(first, end, round.shards, i),
                };
                match read_shard(&path, &expected) {
                    Ok(file) => outcomes.extend(file.outcomes),
                    Err(why) if current => missing.push((i, why)),
                    Err(why) => {
                        return Err(CalibrationError::Shards(format!(
                            "{}: generation {}, round {r} (done before): shard {i}: {why}; to evaluate the generation again: rm -r {} {} and run the driver",
                            work.dir.display(),
                            next.generation,
                            work.dir.join("rounds").display(),
                            work.round_path().display()
                        )));
                    }
                }
            }
        }
        if !missing.is_empty() {
            return Ok(Replayed::Missing(round, missing));
        }
        rounds = starts;
    }

    let settings = problem.settings();
    let a = &problem.config.algorithm;
    let allowed = a
        .max_simulations
        .saturating_sub(state.map_or(0, |s| s.simulations));
    let evaluated = outcomes.len() as u64;
    let mut outcomes = outcomes.into_iter();
    let sampler = Proposals::new(state.map(|s| &s.population), &problem.space, &settings);
    let mut drawing = Drawing::new(&settings, next.tolerance, allowed);
    loop {
        let batch = match drawing.next_batch(&sampler) {
            Ok(Some(batch)) => batch,
            Ok(None) => break,
            Err(e) => return Ok(Replayed::Interrupted(e)),
        };
        if batch.end > evaluated {
            return Ok(Replayed::Needs {
                batch,
                evaluated,
                tally: drawing.tally(),
                rounds,
                generation_started,
            });
        }
        let mut taken = Vec::with_capacity((batch.end - batch.start) as usize);
        for k in batch {
            let outcome = outcomes.next().expect("evaluated proposals are contiguous");
            match outcome.evaluated(next.tolerance) {
                Some(Ok(e)) => taken.push(e),
                Some(Err(e)) => return Ok(Replayed::Interrupted(e)),
                None => {
                    return Err(CalibrationError::Shards(format!(
                        "{}: generation {}: proposal {k} is within the tolerance but its shard kept no point",
                        work.dir.display(),
                        next.generation
                    )));
                }
            }
        }
        drawing.take(taken);
    }
    let started = Instant::now()
        .checked_sub(Duration::from_secs_f64(
            (now() - generation_started).max(0.0),
        ))
        .unwrap_or_else(Instant::now);
    Ok(Replayed::Complete(Box::new(sampler.complete(
        drawing.into_draws(),
        next.tolerance,
        started,
    ))))
}

/// Where the next round ends: whole batches from the batch needed, enough for the particles
/// still missing at the acceptance rate so far (the previous generation's, a little lower,
/// before any is known; twice the proposals so far while none is accepted), and never short of
/// the batch needed. Generation 0 asks for exactly the draws still missing.
fn round_end(
    problem: &Problem,
    state: Option<&Checkpoint>,
    batch: &std::ops::Range<u64>,
    tally: smc::Tally,
) -> u64 {
    let a = &problem.config.algorithm;
    let size = a.batch as u64;
    let need = (tally.needed - tally.accepted) as f64;
    let wanted = match state {
        None => need,
        Some(_) if tally.proposals > 0 && tally.accepted == 0 => 2.0 * tally.proposals as f64,
        Some(s) => {
            let rate = if tally.accepted > 0 {
                tally.accepted as f64 / tally.proposals as f64
            } else {
                let last = s.history.last().expect("generation 0 is recorded");
                if last.generation == 0 {
                    0.5 * a.tolerance_quantile
                } else {
                    0.8 * last.acceptance_rate
                }
            };
            1.25 * need / rate.max(1e-6)
        }
    };
    let wanted = wanted.clamp(1.0, 1e7) as u64;
    let whole = if state.is_none() {
        wanted
    } else {
        wanted.div_ceil(size) * size
    };
    (batch.start + whole).max(batch.end)
}
