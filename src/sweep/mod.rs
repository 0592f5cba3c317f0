//! Parameter sweeps: a design file expanded into a plan of runs, run in shards (on a laptop or
//! as a Slurm job array), checked and merged into one tidy `results.csv` or a set of Parquet
//! tables.
//!
//! ```text
//!   design.toml ──plan──▶ DIR/{plan.csv, manifest.toml, scenario.toml, observed/}
//!                              │ run --shard I (any order, any machine, rerun-safe)
//!                              ▼
//!                         DIR/shards/shard-0000I-of-0000N.shard ──merge──▶ DIR/results.csv
//!                                                                    or DIR/results/*.parquet
//! ```
//!
//! * `design` — the design file: scenario, parameters, method, points, replicates, seed;
//! * `sample` — Latin hypercube and scrambled Sobol points in the unit cube;
//! * `morris`, `saltelli` — the sensitivity designs: Morris trajectories, Saltelli matrices;
//! * `keep` — the series a sweep keeps beside the fit (`keep = [...]`);
//! * `plan` — points × replicates → rows and seeds; the sweep folder and its plan hash;
//! * `folder` — an opened sweep folder: shards, their files and their states;
//! * `execute` — running a shard's rows: one scenario run and its fit per row;
//! * `tables` — the results as tables keyed by plan row (shards, Parquet, CSV rendering);
//! * `progress` — a shard's progress file, and what `status` makes of it;
//! * `merge` — checking every shard and writing the results;
//! * `results` — the merged results read back per run (for analyses and figures);
//! * `slurm` — the `sbatch` array and merge scripts.
//!
//! A row is exactly `diaspora run SCENARIO --seed S --replicates 1 --set path=value…`: the
//! seed comes from (master seed, point, replicate) only — or from (master seed, replicate) with
//! common random numbers — so results never depend on how rows are sharded or how many threads
//! run them.

pub mod design;
pub mod execute;
pub mod folder;
pub mod keep;
pub mod merge;
pub mod morris;
pub mod plan;
pub mod progress;
pub mod results;
pub mod saltelli;
pub mod sample;
pub mod slurm;
pub mod tables;

use std::fmt;
use std::path::Path;

pub use design::{Design, Format, Method, Outputs};
pub use execute::{Runner, ShardOutcome, Timing};
pub use folder::{ShardState, Status, SweepDir, compress};
pub use merge::{Merged, merge};
pub use plan::{Plan, PlanRow, Planned, SweepManifest, plan, run_seed};
pub use slurm::SlurmOptions;

use crate::engine::EngineError;
use crate::observed::ObservedError;
use crate::scenario::ScenarioError;

/// Shards that are not finished, and how to finish them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// Shard count.
    pub shards: usize,
    /// Shards with no file.
    pub missing: Vec<usize>,
    /// Shards whose file is not a finished shard of this plan, with the reason.
    pub invalid: Vec<(usize, String)>,
    /// The array script, if written (`slurm/run.sbatch`).
    pub script: Option<String>,
    /// The sweep folder.
    pub dir: String,
}

impl Incomplete {
    /// Every unfinished shard, sorted.
    pub fn shards_to_run(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.missing.clone();
        v.extend(self.invalid.iter().map(|x| x.0));
        v.sort_unstable();
        v
    }
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let todo = self.shards_to_run();
        write!(
            f,
            "{} of {} shard(s) not finished ({}); ",
            todo.len(),
            self.shards,
            compress(&todo)
        )?;
        for (i, why) in &self.invalid {
            write!(f, "shard {i}: {why}; ")?;
        }
        let array = format!("--array={}", compress(&todo));
        match &self.script {
            Some(s) => write!(f, "resubmit them with: sbatch {array} {s}"),
            None => write!(
                f,
                "run them with: diaspora sweep run {} --shard I (or write the Slurm script with `diaspora sweep slurm {}` and sbatch {array} it)",
                self.dir, self.dir
            ),
        }
    }
}

/// A sweep problem. Input problems (design, scenario, folder, usage) are [`SweepError::is_input`].
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The design file (or its points file) is wrong.
    #[error("{0}")]
    Design(ScenarioError),
    /// The scenario is wrong.
    #[error("{0}")]
    Scenario(ScenarioError),
    /// The observed data cannot be read.
    #[error("{0}")]
    Observed(ObservedError),
    /// A wrong argument (shard out of range, existing folder…).
    #[error("{0}")]
    Usage(String),
    /// The sweep folder is not a planned sweep, or was changed since planning.
    #[error("{path}: {message}")]
    Dir {
        /// File or folder.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File or folder.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A run failed.
    #[error("row {row} (point {point}, replicate {replicate}, seed {seed}): {source}")]
    Engine {
        /// Row.
        row: usize,
        /// Point.
        point: usize,
        /// Replicate.
        replicate: u32,
        /// Seed.
        seed: u64,
        /// Cause.
        source: EngineError,
    },
    /// Shards are missing or invalid.
    #[error("{0}")]
    Incomplete(Incomplete),
}

impl SweepError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> SweepError {
        SweepError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// Whether the user's input is at fault (exit code 2), rather than a run or the disk.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            SweepError::Design(_)
                | SweepError::Scenario(_)
                | SweepError::Observed(_)
                | SweepError::Usage(_)
                | SweepError::Dir { .. }
        )
    }
}
