//! Slurm scripts for a planned sweep, in `DIR/slurm/`:
//!
//! * `run.sbatch` — a job array, one task per shard (`--array=0-(N-1)[%K]`); each task runs
//!   `diaspora sweep run DIR --shard $SLURM_ARRAY_TASK_ID` on its `--cpus-per-task` cores. A
//!   command-line `--array` overrides the script's, so `sbatch --array=2,5 run.sbatch` reruns
//!   only shards 2 and 5.
//! * `merge.sbatch` — `diaspora sweep merge DIR` on one core.
//! * `submit.sh` — submits the array, then the merge with `--dependency=afterany:<array>`:
//!   with `afterok` one failed task would leave the merge pending for ever
//!   (`DependencyNeverSatisfied`); with `afterany` it runs and names the shards to resubmit.
//!
//! Logs go to `DIR/slurm/logs/run-%A_%a.out` (array job and task) and `merge-%j.out`.

use std::path::{Path, PathBuf};

use super::SweepError;
use super::folder::SweepDir;
use super::plan::short;
use crate::slurm::{Job, Script, sh_quote, submit_script, write_scripts};

pub use crate::slurm::SlurmOptions;

/// The three files, as (name, text), for a sweep folder at the absolute path `dir`.
pub fn scripts(
    sweep: &SweepDir,
    dir: &Path,
    o: &SlurmOptions,
) -> Result<Vec<(&'static str, String)>, SweepError> {
    o.check(dir).map_err(SweepError::Usage)?;
    let dir_s = dir.display().to_string();
    let m = &sweep.manifest;
    let n = sweep.shards();
    let slurm = dir.join("slurm");
    let logs = slurm.join("logs");
    let per_shard = m.runs.div_ceil(n);
    let qdir = sh_quote(&dir_s);

    let run_sbatch = slurm.join("run.sbatch").display().to_string();
    let mut run = Script::new(&[
        &format!(
            "Slurm job array of sweep \"{}\": {} runs in {n} shard(s) of about {per_shard} run(s), plan {}.",
            m.name,
            m.runs,
            short(&m.plan_hash)
        ),
        "Written by `diaspora sweep slurm`. Submit with the merge chained after it:",
        &format!("    bash {}", slurm.join("submit.sh").display()),
        &format!("or the array alone, or only the shards `diaspora sweep status {dir_s}` lists:"),
        &format!("    sbatch {run_sbatch}"),
        &format!("    sbatch --array=2,5,7-9 {run_sbatch}"),
    ]);
    run.sbatch(
        o,
        &Job {
            name: &m.name,
            array: Some(format!("0-{}{}", n - 1, o.throttle())),
            cpus: o.cpus,
            mem: true,
            log: logs.join("run-%A_%a.out"),
        },
    );
    run.prologue(o);
    run.line(
        "# The shard index is the task id; the shard count comes from the sweep's manifest, never",
    );
    run.line("# from SLURM_ARRAY_TASK_COUNT (it is 1 when a single task is resubmitted).");
    run.threads(o.cpus);
    run.line(format!(
        "exec \"$DIASPORA\" sweep run {qdir} --shard \"$SLURM_ARRAY_TASK_ID\" --threads \"$RAYON_NUM_THREADS\""
    ));

    let mut merge = Script::new(&[
        &format!(
            "Merge step of sweep \"{}\": checks every shard and writes the results ({}) in {}, or fails",
            m.name,
            match m.format {
                super::Format::Csv => "results.csv",
                super::Format::Parquet => "results/*.parquet",
            },
            dir_s
        ),
        "naming the shards to resubmit. submit.sh chains it with --dependency=afterany.",
    ]);
    merge.sbatch(
        o,
        &Job {
            name: &format!("{}-merge", m.name),
            array: None,
            cpus: 1,
            mem: false,
            log: logs.join("merge-%j.out"),
        },
    );
    merge.prologue(o);
    merge.line(format!("exec \"$DIASPORA\" sweep merge {qdir}"));

    let submit = submit_script(
        &[
            &format!(
                "Submits sweep \"{}\": the job array, then the merge with --dependency=afterany.",
                m.name
            ),
            "Arguments go to the array's sbatch, e.g. only some shards: bash submit.sh --array=2,5",
        ],
        &slurm,
        "run.sbatch",
        ("merge.sbatch", "merge"),
        &format!("diaspora sweep status {dir_s}"),
    );

    Ok(vec![
        ("run.sbatch", run.text()),
        ("merge.sbatch", merge.text()),
        ("submit.sh", submit),
    ])
}

/// Writes the scripts into `DIR/slurm/` (and creates `DIR/slurm/logs/`, which Slurm does not).
pub fn write(sweep: &SweepDir, o: &SlurmOptions) -> Result<Vec<PathBuf>, SweepError> {
    let dir = sweep
        .dir
        .canonicalize()
        .map_err(|e| SweepError::io(&sweep.dir, e))?;
    let files = scripts(sweep, &dir, o)?;
    write_scripts(&dir.join("slurm"), files).map_err(|(path, e)| SweepError::io(&path, e))
}
