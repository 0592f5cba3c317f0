//! Slurm batch scripts as sweeps (`sweep::slurm`) and calibrations (`calibrate::slurm`) write
//! them: the resources a job asks for, the `diaspora` binary it runs, shell quoting, and the
//! folder the scripts and their logs go into. What each job runs is the caller's.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::output::write_atomic;

/// Resources of the jobs, and the binary they run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlurmOptions {
    /// `--partition` (default: the cluster's default partition).
    pub partition: Option<String>,
    /// `--time` per job or array task, e.g. `01:00:00`.
    pub time: String,
    /// `--cpus-per-task`; the job's rayon threads.
    pub cpus: u32,
    /// `%K`: at most this many array tasks at once.
    pub max_parallel: Option<usize>,
    /// `--mem` per task, e.g. `4G` (default: the cluster's).
    pub mem: Option<String>,
    /// The `diaspora` binary the jobs run (absolute); `$DIASPORA` overrides it at run time.
    pub binary: PathBuf,
}

impl SlurmOptions {
    /// Refuses a folder (`dir`, where the scripts and logs go) or a value that an `#SBATCH`
    /// line cannot hold.
    pub fn check(&self, dir: &Path) -> Result<(), String> {
        let dir = dir.display().to_string();
        if dir.chars().any(char::is_whitespace) {
            return Err(format!(
                "{dir}: Slurm's #SBATCH lines cannot hold a path with spaces: move the folder"
            ));
        }
        for (what, v) in [
            ("--time", Some(&self.time)),
            ("--partition", self.partition.as_ref()),
            ("--mem", self.mem.as_ref()),
        ] {
            if let Some(v) = v
                && (v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '\''))
            {
                return Err(format!(
                    "{what}: expected a Slurm value without spaces or quotes, found \"{v}\""
                ));
            }
        }
        Ok(())
    }

    /// The `%K` that throttles an array (empty without `max_parallel`).
    pub fn throttle(&self) -> String {
        self.max_parallel.map_or(String::new(), |k| format!("%{k}"))
    }
}

/// One job's `#SBATCH` lines.
pub struct Job<'a> {
    /// `--job-name` (made safe by [`job_name`]).
    pub name: &'a str,
    /// `--array`, for a job array.
    pub array: Option<String>,
    /// `--cpus-per-task`.
    pub cpus: u32,
    /// Whether `--mem` applies (the options' memory, if any).
    pub mem: bool,
    /// `--output`: the log file pattern.
    pub log: PathBuf,
}

/// A batch script, written line by line.
#[derive(Default)]
pub struct Script(String);

impl Script {
    /// `#!/usr/bin/env bash` and the comment lines.
    pub fn new(comments: &[&str]) -> Script {
        let mut s = Script(String::from("#!/usr/bin/env bash\n"));
        for c in comments {
            s.line(format!("# {c}"));
        }
        s
    }

    /// One line.
    pub fn line(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.0, "{}", text.as_ref());
    }

    /// The `#SBATCH` lines of `job`: name, array, tasks, CPUs, partition, time, memory, log.
    pub fn sbatch(&mut self, o: &SlurmOptions, job: &Job<'_>) {
        self.line(format!("#SBATCH --job-name={}", job_name(job.name)));
        if let Some(a) = &job.array {
            self.line(format!("#SBATCH --array={a}"));
        }
        self.line("#SBATCH --ntasks=1");
        self.line(format!("#SBATCH --cpus-per-task={}", job.cpus));
        if let Some(p) = &o.partition {
            self.line(format!("#SBATCH --partition={p}"));
        }
        self.line(format!("#SBATCH --time={}", o.time));
        if job.mem
            && let Some(mem) = &o.mem
        {
            self.line(format!("#SBATCH --mem={mem}"));
        }
        self.line(format!("#SBATCH --output={}", job.log.display()));
    }

    /// `set -euo pipefail` and the binary: `$DIASPORA`, else the options'.
    pub fn prologue(&mut self, o: &SlurmOptions) {
        self.line("set -euo pipefail");
        self.line(format!(
            "DIASPORA=${{DIASPORA:-{}}}",
            sh_quote(&o.binary.display().to_string())
        ));
    }

    /// `RAYON_NUM_THREADS` from the CPUs Slurm gave the task.
    pub fn threads(&mut self, cpus: u32) {
        self.line(format!(
            "export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\""
        ));
    }

    /// The text.
    pub fn text(self) -> String {
        self.0
    }
}

/// `submit.sh`: submits the array script `array` in `dir` (the script's arguments go to its
/// `sbatch`, e.g. `--array=2,5`), then the script `after` with `--dependency=afterany` on the
/// array (with `afterok` a failed task would leave it pending for ever), and prints both job
/// ids as `array_job=` and `<key>_job=` lines and `then`, a hint.
pub fn submit_script(
    comments: &[&str],
    dir: &Path,
    array: &str,
    after: (&str, &str),
    then: &str,
) -> String {
    let (script, key) = after;
    let mut submit = Script::new(comments);
    submit.line("set -euo pipefail");
    submit.line(format!("here={}", sh_quote(&dir.display().to_string())));
    submit.line(format!(
        "array=$(sbatch --parsable \"$@\" \"$here/{array}\")"
    ));
    submit.line("array=${array%%;*}");
    submit.line(format!(
        "{key}=$(sbatch --parsable --dependency=afterany:\"$array\" \"$here/{script}\")"
    ));
    submit.line(format!("{key}=${{{key}%%;*}}"));
    submit.line("echo \"array_job=$array\"");
    submit.line(format!("echo \"{key}_job=${key}\""));
    submit.line(format!(
        "echo \"watch with: squeue -j $array,${key}; then: {then}\""
    ));
    submit.text()
}

/// A name Slurm shows as is: letters, digits, `-` and `_`, anything else as `_`.
pub fn job_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A shell word: the text in single quotes.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes the scripts `(name, text)` into `dir`, executable, and creates `dir/logs/` (Slurm
/// does not create the folder of a log); returns their paths.
pub fn write_scripts(
    dir: &Path,
    files: Vec<(&str, String)>,
) -> Result<Vec<PathBuf>, (PathBuf, io::Error)> {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| (logs.clone(), e))?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes()).map_err(|e| (path.clone(), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("/a/b"), "'/a/b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn job_names_are_plain() {
        assert_eq!(job_name("a b/c-d_e"), "a_b_c-d_e");
    }
}
