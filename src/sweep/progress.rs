//! What a shard's runner leaves beside the shard so that `diaspora sweep status` can tell a
//! running shard from a failed, a killed and a never-started one: a small progress file,
//! `shards/shard-0000I-of-0000N.progress.toml`, replaced atomically when the shard starts, at
//! every heartbeat while it runs, and when it ends (done, or failed with its error).
//!
//! ```toml
//! state = "running"            # running, done or failed
//! plan = "<plan hash>"
//! host = "node17"
//! pid = 41213
//! started = 1733390000.25      # Unix seconds
//! updated = 1733390090.75      # the last heartbeat
//! every = 30.0                 # seconds between heartbeats
//! runs = 100
//! done = 37
//! error = "…"                  # failed only: the error's last line
//! ```
//!
//! [`assess`] turns the shard file and the progress file into one [`ShardReport`]. A process
//! killed outright (SIGKILL, a node lost, a Slurm time limit) writes nothing more: its record
//! says `running`, and it is reported killed when its process is known to be gone (the caller
//! checks processes on its own host) or stalled when no heartbeat came for three periods and a
//! minute.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SweepError;
use super::folder::{ShardState, SweepDir};
use crate::output::write_atomic;

/// What a shard's runner says it is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Running (or killed without a word).
    Running,
    /// Finished and written.
    Done,
    /// Stopped by an error.
    Failed,
}

/// The progress file of a shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardProgress {
    /// The runner's state.
    pub state: RunState,
    /// The plan hash of the sweep it runs.
    pub plan: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it started (Unix seconds).
    pub started: f64,
    /// Its last heartbeat (Unix seconds).
    pub updated: f64,
    /// Seconds between heartbeats.
    pub every: f64,
    /// Runs in the shard.
    pub runs: usize,
    /// Runs done.
    pub done: usize,
    /// The error's last line (failed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ShardProgress {
    /// Runs per second so far (`None` before the first run ends).
    pub fn rate(&self) -> Option<f64> {
        let seconds = self.updated - self.started;
        (self.done > 0 && seconds > 0.0).then(|| self.done as f64 / seconds)
    }

    /// Seconds left at the rate so far.
    pub fn eta(&self) -> Option<f64> {
        self.rate()
            .map(|r| self.runs.saturating_sub(self.done) as f64 / r)
    }
}

/// Heartbeats missed, plus a minute, before a running record counts as stalled.
const STALE_PERIODS: f64 = 3.0;

/// What `diaspora sweep status` says of a shard.
#[derive(Clone, Debug, PartialEq)]
pub enum ShardReport {
    /// Its file is a complete shard of this plan.
    Done,
    /// A live runner: its progress.
    Running(ShardProgress),
    /// Its runner stopped on an error (`error` holds its last line).
    Failed(ShardProgress),
    /// Its runner's record says running, but the process is gone.
    Killed(ShardProgress),
    /// Its runner's record says running, but no heartbeat came for `silent` seconds.
    Stalled {
        /// The last record.
        progress: ShardProgress,
        /// Seconds since its last heartbeat.
        silent: f64,
    },
    /// A file that is not a complete shard of this plan, and no runner: why.
    Invalid(String),
    /// No file and no runner.
    NotStarted,
}

impl ShardReport {
    /// Whether the shard needs running (everything but done and running).
    pub fn needs_running(&self) -> bool {
        !matches!(self, ShardReport::Done | ShardReport::Running(_))
    }
}

impl SweepDir {
    /// The progress file of shard `i`.
    pub fn progress_path(&self, i: usize) -> PathBuf {
        self.dir.join("shards").join(format!(
            "shard-{i:05}-of-{:05}.progress.toml",
            self.manifest.shards
        ))
    }

    /// The progress of shard `i`, if its file exists and is of this plan (a file that cannot
    /// be read as one is ignored: it only informs `status`).
    pub fn progress(&self, i: usize) -> Option<ShardProgress> {
        let text = std::fs::read_to_string(self.progress_path(i)).ok()?;
        let p: ShardProgress = toml::from_str(&text).ok()?;
        (p.plan == self.manifest.plan_hash).then_some(p)
    }

    /// Replaces shard `i`'s progress file.
    pub fn write_progress(&self, i: usize, p: &ShardProgress) -> Result<(), SweepError> {
        let path = self.progress_path(i);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SweepError::io(parent, e))?;
        }
        let text = toml::to_string(p).expect("progress is plain data");
        write_atomic(&path, text.as_bytes()).map_err(|e| SweepError::io(&path, e))
    }
}

/// The report of a shard whose file is in `state` and whose runner left `progress`, at Unix
/// time `now`; `alive` says whether the recorded process still runs, when the caller can tell
/// (same host), else `None`.
pub fn assess(
    state: ShardState,
    progress: Option<ShardProgress>,
    now: f64,
    alive: impl Fn(&ShardProgress) -> Option<bool>,
) -> ShardReport {
    // What a running record is if its runner is not alive (`None` if it is).
    let dead = |p: &ShardProgress| -> Option<ShardReport> {
        if alive(p) == Some(false) {
            return Some(ShardReport::Killed(p.clone()));
        }
        let silent = now - p.updated;
        (silent > STALE_PERIODS * p.every + 60.0).then(|| ShardReport::Stalled {
            progress: p.clone(),
            silent,
        })
    };
    let running = progress
        .as_ref()
        .filter(|p| p.state == RunState::Running)
        .map(dead);
    match (running, state, progress) {
        (Some(None), _, Some(p)) => ShardReport::Running(p),
        (_, ShardState::Complete, _) => ShardReport::Done,
        (_, _, Some(p)) if p.state == RunState::Failed => ShardReport::Failed(p),
        (Some(Some(dead)), _, _) => dead,
        (_, ShardState::Invalid(why), _) => ShardReport::Invalid(why),
        _ => ShardReport::NotStarted,
    }
}

/// Every shard's report (see [`assess`]).
pub fn reports(
    sweep: &SweepDir,
    now: f64,
    alive: &(dyn Fn(&ShardProgress) -> Option<bool> + Sync),
) -> Vec<ShardReport> {
    use rayon::prelude::*;
    (0..sweep.shards())
        .into_par_iter()
        .map(|i| assess(sweep.shard_state(i), sweep.progress(i), now, alive))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: RunState, updated: f64) -> ShardProgress {
        ShardProgress {
            state,
            plan: "p".into(),
            host: "h".into(),
            pid: 7,
            started: 1000.0,
            updated,
            every: 30.0,
            runs: 100,
            done: 40,
            error: (state == RunState::Failed).then(|| "row 3: boom".into()),
        }
    }

    #[test]
    fn rate_and_eta_from_the_runs_done_so_far() {
        // 40 runs in 20 s: 2 runs/s, 60 left: 30 s.
        let p = record(RunState::Running, 1020.0);
        assert_eq!(p.rate(), Some(2.0));
        assert_eq!(p.eta(), Some(30.0));
        let none = ShardProgress { done: 0, ..p };
        assert_eq!(none.rate(), None);
        assert_eq!(none.eta(), None);
    }

    #[test]
    fn each_state_is_told_apart() {
        let unknown = |_: &ShardProgress| None;
        let gone = |_: &ShardProgress| Some(false);
        let run = record(RunState::Running, 1000.0);
        let now = 1100.0;
        // A fresh heartbeat (100 s < 3 × 30 s + 60 s), a complete file being rerun, a dead
        // process, a silent host.
        let a = assess(ShardState::Missing, Some(run.clone()), now, unknown);
        assert_eq!(a, ShardReport::Running(run.clone()));
        let a = assess(ShardState::Complete, Some(run.clone()), now, unknown);
        assert_eq!(a, ShardReport::Running(run.clone()));
        let a = assess(ShardState::Missing, Some(run.clone()), now, gone);
        assert_eq!(a, ShardReport::Killed(run.clone()));
        let late = 1000.0 + 3.0 * 30.0 + 60.0 + 1.0;
        let a = assess(ShardState::Missing, Some(run.clone()), late, unknown);
        assert_eq!(
            a,
            ShardReport::Stalled {
                progress: run.clone(),
                silent: 151.0
            }
        );
        // A complete file whatever the record says, unless a live runner rewrites it.
        let a = assess(ShardState::Complete, Some(run.clone()), now, gone);
        assert_eq!(a, ShardReport::Done);
        let failed = record(RunState::Failed, 1000.0);
        let a = assess(ShardState::Complete, Some(failed.clone()), now, unknown);
        assert_eq!(a, ShardReport::Done);
        let a = assess(
            ShardState::Invalid("x".into()),
            Some(failed.clone()),
            now,
            unknown,
        );
        assert_eq!(a, ShardReport::Failed(failed));
        let a = assess(ShardState::Invalid("x".into()), None, now, unknown);
        assert_eq!(a, ShardReport::Invalid("x".into()));
        let done = record(RunState::Done, 1000.0);
        let a = assess(ShardState::Missing, Some(done), now, unknown);
        assert_eq!(a, ShardReport::NotStarted);
        assert_eq!(
            assess(ShardState::Missing, None, now, unknown),
            ShardReport::NotStarted
        );
    }
}
