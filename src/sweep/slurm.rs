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

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::SweepError;
use super::folder::SweepDir;
use super::plan::short;
use crate::output::write_atomic;

/// Resources of the array tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlurmOptions {
    /// `--partition` (default: the cluster's default partition).
    pub partition: Option<String>,
    /// `--time` per task, e.g. `01:00:00`.
    pub time: String,
    /// `--cpus-per-task`; the task's rayon threads.
    pub cpus: u32,
    /// `%K`: at most this many tasks at once.
    pub max_parallel: Option<usize>,
    /// `--mem` per task, e.g. `4G` (default: the cluster's).
    pub mem: Option<String>,
    /// The `diaspora` binary the jobs run (absolute); `$DIASPORA` overrides it at run time.
    pub binary: PathBuf,
}

/// The three files, as (name, text), for a sweep folder at the absolute path `dir`.
pub fn scripts(
    sweep: &SweepDir,
    dir: &Path,
    o: &SlurmOptions,
) -> Result<Vec<(&'static str, String)>, SweepError> {
    let dir_s = dir.display().to_string();
    if dir_s.chars().any(char::is_whitespace) {
        return Err(SweepError::Usage(format!(
            "{dir_s}: Slurm's #SBATCH lines cannot hold a path with spaces: move the sweep folder"
        )));
    }
    for (what, v) in [
        ("--time", Some(&o.time)),
        ("--partition", o.partition.as_ref()),
        ("--mem", o.mem.as_ref()),
    ] {
        if let Some(v) = v
            && (v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '\''))
        {
            return Err(SweepError::Usage(format!(
                "{what}: expected a Slurm value without spaces or quotes, found \"{v}\""
            )));
        }
    }
    let m = &sweep.manifest;
    let n = sweep.shards();
    let job: String = m
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let slurm = dir.join("slurm");
    let logs = slurm.join("logs");
    let per_shard = m.runs.div_ceil(n);
    let throttle = o.max_parallel.map_or(String::new(), |k| format!("%{k}"));
    let binary = sh_quote(&o.binary.display().to_string());
    let qdir = sh_quote(&dir_s);
    let resources = |s: &mut String| {
        if let Some(p) = &o.partition {
            let _ = writeln!(s, "#SBATCH --partition={p}");
        }
        let _ = writeln!(s, "#SBATCH --time={}", o.time);
    };

    let mut run = String::new();
    let _ = writeln!(run, "#!/usr/bin/env bash");
    let _ = writeln!(
        run,
        "# Slurm job array of sweep \"{}\": {} runs in {n} shard(s) of about {per_shard} run(s), plan {}.",
        m.name,
        m.runs,
        short(&m.plan_hash)
    );
    let _ = writeln!(
        run,
        "# Written by `diaspora sweep slurm`. Submit with the merge chained after it:"
    );
    let _ = writeln!(run, "#     bash {}", slurm.join("submit.sh").display());
    let _ = writeln!(
        run,
        "# or the array alone, or only the shards `diaspora sweep status {dir_s}` lists:"
    );
    let _ = writeln!(run, "#     sbatch {}", slurm.join("run.sbatch").display());
    let _ = writeln!(
        run,
        "#     sbatch --array=2,5,7-9 {}",
        slurm.join("run.sbatch").display()
    );
    let _ = writeln!(run, "#SBATCH --job-name={job}");
    let _ = writeln!(run, "#SBATCH --array=0-{}{throttle}", n - 1);
    let _ = writeln!(run, "#SBATCH --ntasks=1");
    let _ = writeln!(run, "#SBATCH --cpus-per-task={}", o.cpus);
    resources(&mut run);
    if let Some(mem) = &o.mem {
        let _ = writeln!(run, "#SBATCH --mem={mem}");
    }
    let _ = writeln!(run, "#SBATCH --output={}/run-%A_%a.out", logs.display());
    let _ = writeln!(run, "set -euo pipefail");
    let _ = writeln!(run, "DIASPORA=${{DIASPORA:-{binary}}}");
    let _ = writeln!(
        run,
        "# The shard index is the task id; the shard count comes from the sweep's manifest, never"
    );
    let _ = writeln!(
        run,
        "# from SLURM_ARRAY_TASK_COUNT (it is 1 when a single task is resubmitted)."
    );
    let _ = writeln!(
        run,
        "export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{}}}\"",
        o.cpus
    );
    let _ = writeln!(
        run,
        "exec \"$DIASPORA\" sweep run {qdir} --shard \"$SLURM_ARRAY_TASK_ID\" --threads \"$RAYON_NUM_THREADS\""
    );

    let mut merge = String::new();
    let _ = writeln!(merge, "#!/usr/bin/env bash");
    let _ = writeln!(
        merge,
        "# Merge step of sweep \"{}\": checks every shard and writes the results ({}) in {}, or fails",
        m.name,
        match m.format {
            super::Format::Csv => "results.csv",
            super::Format::Parquet => "results/*.parquet",
        },
        dir_s
    );
    let _ = writeln!(
        merge,
        "# naming the shards to resubmit. submit.sh chains it with --dependency=afterany."
    );
    let _ = writeln!(merge, "#SBATCH --job-name={job}-merge");
    let _ = writeln!(merge, "#SBATCH --ntasks=1");
    let _ = writeln!(merge, "#SBATCH --cpus-per-task=1");
    resources(&mut merge);
    let _ = writeln!(merge, "#SBATCH --output={}/merge-%j.out", logs.display());
    let _ = writeln!(merge, "set -euo pipefail");
    let _ = writeln!(merge, "DIASPORA=${{DIASPORA:-{binary}}}");
    let _ = writeln!(merge, "exec \"$DIASPORA\" sweep merge {qdir}");

    let qslurm = sh_quote(&slurm.display().to_string());
    let mut submit = String::new();
    let _ = writeln!(submit, "#!/usr/bin/env bash");
    let _ = writeln!(
        submit,
        "# Submits sweep \"{}\": the job array, then the merge with --dependency=afterany.",
        m.name
    );
    let _ = writeln!(
        submit,
        "# Arguments go to the array's sbatch, e.g. only some shards: bash submit.sh --array=2,5"
    );
    let _ = writeln!(submit, "set -euo pipefail");
    let _ = writeln!(submit, "here={qslurm}");
    let _ = writeln!(
        submit,
        "array=$(sbatch --parsable \"$@\" \"$here/run.sbatch\")"
    );
    let _ = writeln!(submit, "array=${{array%%;*}}");
    let _ = writeln!(
        submit,
        "merge=$(sbatch --parsable --dependency=afterany:\"$array\" \"$here/merge.sbatch\")"
    );
    let _ = writeln!(submit, "merge=${{merge%%;*}}");
    let _ = writeln!(submit, "echo \"array_job=$array\"");
    let _ = writeln!(submit, "echo \"merge_job=$merge\"");
    let _ = writeln!(
        submit,
        "echo \"watch with: squeue -j $array,$merge; then: diaspora sweep status {dir_s}\""
    );

    Ok(vec![
        ("run.sbatch", run),
        ("merge.sbatch", merge),
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
    let logs = dir.join("slurm").join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| SweepError::io(&logs, e))?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join("slurm").join(name);
        write_atomic(&path, text.as_bytes()).map_err(|e| SweepError::io(&path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
        written.push(path);
    }
    Ok(written)
}

/// A shell word: the text in single quotes.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("/a/b"), "'/a/b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }
}
