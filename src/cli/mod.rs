//! Command-line interface: argument parsing, exit codes, and the user-facing text.
//!
//! Exit codes: 0 success; 2 bad input (scenario, override, usage); 1 a run that failed.

/// Prints a line to stdout, ignoring a closed pipe (`diaspora run ... | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod calibrate;
mod compare;
mod contrast;
mod init;
mod keys;
mod manual;
mod plot;
mod progress;
mod rounds;
mod run;
mod sbc;
mod schema;
mod sensitivity;
mod slurm;
mod sweep;
mod validate;

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use diaspora::output::FolderError;
use diaspora::scenario::{Override, Scenario, ScenarioError};

/// diaspora: simulate emigration, transit, resettlement and onward migration.
#[derive(Parser, Debug)]
#[command(name = "diaspora", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario's replicates and write series.csv, summary.csv and manifest.toml.
    Run(run::RunArgs),
    /// Check a scenario and print a one-screen summary.
    Validate(validate::ValidateArgs),
    /// Write a small commented scenario for a new origin and a matching calibration file.
    Init(init::InitArgs),
    /// Compare a run with the observed record: write RUN_DIR/fit.csv and print the fit.
    Compare(compare::CompareArgs),
    /// Draw a run's figures against the observed record (PNG or SVG).
    Plot(plot::PlotArgs),
    /// Parameter sweeps: plan, run shards (here or as a Slurm job array), status, merge.
    Sweep(sweep::SweepArgs),
    /// Calibrate free parameters against observed series by ABC-SMC.
    Calibrate(calibrate::CalibrateArgs),
    /// The steps of a calibration run on Slurm (`calibrate --slurm`): a shard, the driver.
    #[command(hide = true)]
    CalibrateSlurm(rounds::RoundsArgs),
    /// Simulation-based calibration: is a calibration's stated uncertainty honest?
    Sbc(sbc::SbcArgs),
    /// List a scenario's --set paths with their resolved values and what they mean.
    Keys(keys::KeysArgs),
    /// Print the JSON Schema of a scenario, calibration or sweep design file (for editors).
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(manual::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --dir.
    Man(manual::ManArgs),
    /// Morris or Sobol sensitivity indices of a merged sweep: DIR/sensitivity.csv and a table.
    Sensitivity(sensitivity::SensitivityArgs),
    /// Paired differences of two runs (B − A, replicate by replicate): contrast.csv and totals.
    Contrast(contrast::ContrastArgs),
}

/// Scenario file plus overrides, shared by commands that read a scenario.
#[derive(Args, Debug, Clone)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override any scenario value by its dotted key path, e.g. --set hosts.GBR.recognition=0.4
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<String>,
}

impl ScenarioArgs {
    fn overrides(&self) -> Result<Vec<Override>, CliError> {
        self.set
            .iter()
            .map(|s| Override::parse(s).map_err(CliError::from))
            .collect()
    }
}

/// An error with its exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad input: exit 2.
    Input(String),
    /// A failed run: exit 1.
    Failure(anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Failure(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(m) => f.write_str(m),
            CliError::Failure(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<ScenarioError> for CliError {
    fn from(e: ScenarioError) -> Self {
        CliError::Input(e.to_string())
    }
}

impl From<FolderError> for CliError {
    fn from(e: FolderError) -> Self {
        if e.is_input() {
            CliError::Input(e.to_string())
        } else {
            CliError::Failure(e.into())
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Failure(e)
    }
}

pub fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::validate(a),
        Command::Init(a) => init::init(a),
        Command::Compare(a) => compare::compare(a),
        Command::Plot(a) => plot::plot(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Calibrate(a) => calibrate::calibrate(a),
        Command::CalibrateSlurm(a) => rounds::rounds(a),
        Command::Sbc(a) => sbc::sbc(a),
        Command::Keys(a) => keys::list(a),
        Command::Schema(a) => schema::print(a),
        Command::Completions(a) => manual::completions(a),
        Command::Man(a) => manual::man(a),
        Command::Sensitivity(a) => sensitivity::sensitivity(a),
        Command::Contrast(a) => contrast::contrast(a),
    }
}

/// clap's multi-line usage error as one line: its message without the usage, tips and the
/// pointer to `--help`.
pub fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_string()
}

/// A master seed from the command line: a whole number in 0..=2^63−1 (negative numbers reach
/// this check instead of being taken for options).
pub fn seed(arg: &str) -> Result<u64, String> {
    match arg.trim().parse::<i128>() {
        Ok(s) if (0..=i128::from(i64::MAX)).contains(&s) => Ok(s as u64),
        _ => Err(format!(
            "expected a whole number in 0..={}, found {arg}",
            i64::MAX
        )),
    }
}

/// Prints a scenario's warnings (events a `--set` of the run's years clipped or left out).
pub fn warn(scenario: &Scenario) {
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
}

/// Bytes of memory available to a new process (`MemAvailable` of /proc/meminfo), if known.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A rayon pool with `threads` workers (0 = one per core).
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, CliError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot start {threads} threads: {e}")))
}
