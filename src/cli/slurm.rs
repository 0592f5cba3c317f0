//! The Slurm resource options `sweep slurm` and `calibrate --slurm` share.

use std::path::PathBuf;

use clap::Args;

use diaspora::slurm::SlurmOptions;

use super::CliError;

#[derive(Args, Debug, Default)]
pub struct SlurmResources {
    /// Partition (default: the cluster's default).
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per job or array task, e.g. 00:30:00 [default: 01:00:00].
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per task; each task runs on this many threads [default: 1].
    #[arg(long, visible_alias = "cpus-per-task")]
    pub cpus: Option<u32>,
    /// Run at most this many array tasks at once (--array=0-N%K).
    #[arg(long)]
    pub max_parallel: Option<usize>,
    /// Memory per task, e.g. 4G (default: the cluster's).
    #[arg(long)]
    pub mem: Option<String>,
    /// The diaspora binary the jobs run (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
}

impl SlurmResources {
    /// The options named on the command line, as flags (for "only with --slurm").
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--partition", self.partition.is_some()),
            ("--time", self.time.is_some()),
            ("--cpus", self.cpus.is_some()),
            ("--max-parallel", self.max_parallel.is_some()),
            ("--mem", self.mem.is_some()),
            ("--binary", self.binary.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }

    /// The checked options, with their defaults and this binary's absolute path.
    pub fn options(self) -> Result<SlurmOptions, CliError> {
        let cpus = self.cpus.unwrap_or(1);
        if cpus == 0 {
            return Err(CliError::Input(
                "--cpus: expected at least 1, found 0".into(),
            ));
        }
        if self.max_parallel == Some(0) {
            return Err(CliError::Input(
                "--max-parallel: expected at least 1, found 0".into(),
            ));
        }
        let binary = match self.binary {
            Some(b) => b,
            None => std::env::current_exe().map_err(|e| {
                CliError::Failure(anyhow::anyhow!("cannot find this binary's path: {e}"))
            })?,
        };
        let binary = binary.canonicalize().unwrap_or(binary);
        Ok(SlurmOptions {
            partition: self.partition,
            time: self.time.unwrap_or_else(|| "01:00:00".into()),
            cpus,
            max_parallel: self.max_parallel,
            mem: self.mem,
            binary,
        })
    }
}
