//! `diaspora sbc`: simulation-based calibration of a calibration file — draw the truth from the
//! prior, simulate data, calibrate, rank the truth in the posterior; report coverage and
//! rank uniformity per free coordinate.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use diaspora::calibrate::sbc::{self, Settings};
use diaspora::calibrate::smc::GenerationStats;
use diaspora::calibrate::{CalibrationError, Config, Problem, Progress};
use diaspora::output::{Target, folder};

use super::{CliError, pool};

#[derive(Args, Debug)]
pub struct SbcArgs {
    /// Calibration file (TOML): its priors, targets (their years) and sampler settings are used;
    /// its observed values are replaced by data the model makes.
    calibration: PathBuf,
    /// Replications (each a full calibration).
    #[arg(long, default_value_t = 100)]
    replications: u32,
    /// Posterior draws each truth is ranked among (ranks run from 0 to this).
    #[arg(long, default_value_t = 99)]
    draws: u32,
    /// Master seed (default: the calibration file's).
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder (default: output/<calibration name>-sbc/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: one per core). The result does not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// Generations are not reported one by one: a replication is one line.
struct Quiet;

impl Progress for Quiet {
    fn generation_started(&mut self, _: u32, _: f64) {}
    fn generation_done(&mut self, _: &GenerationStats) {}
}

#[derive(Serialize)]
struct Manifest {
    crate_version: String,
    calibration_file: String,
    scenario: String,
    scenario_hash: String,
    replications: u32,
    draws: u32,
    seed: u64,
    particles: usize,
    max_generations: u32,
    threads: usize,
    wall_seconds: f64,
    files: BTreeMap<String, String>,
}

pub fn sbc(args: SbcArgs) -> Result<(), CliError> {
    if args.replications == 0 || args.draws == 0 {
        return Err(CliError::Input(
            "--replications and --draws: expected at least 1".into(),
        ));
    }
    let config = Config::read(&args.calibration)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}-sbc", config.name)));
    let problem = Problem::new(config)?;
    let target = Target::claim(&dir, &folder::SBC)?;
    let pool = pool(args.threads)?;
    let threads = pool.current_num_threads();
    let settings = Settings {
        replications: args.replications,
        draws: args.draws,
        seed: args.seed.unwrap_or(problem.config.algorithm.seed),
    };
    eprintln!(
        "simulation-based calibration of {}: {} replications of {} particles, {} coordinates, on {threads} thread(s)",
        problem.config.file.display(),
        settings.replications,
        problem.config.algorithm.particles,
        problem.space.names().len()
    );
    let start = Instant::now();
    let records = pool
        .install(|| {
            sbc::run(&problem, settings, &mut Quiet, &mut |r| {
                eprintln!(
                    "replication {}/{} done, {:.1} s",
                    r + 1,
                    settings.replications,
                    start.elapsed().as_secs_f64()
                );
            })
        })
        .map_err(|e| match e {
            CalibrationError::Checkpoint(m) => CliError::Input(m),
            other => CliError::Failure(other.into()),
        })?;
    let summaries = sbc::summarise(&records, settings.draws);
    let mut stage = target.stage()?;
    stage.write("sbc.csv", &sbc::records_csv(&records))?;
    stage.write("sbc_summary.csv", &sbc::summary_csv(&summaries))?;
    let a = &problem.config.algorithm;
    let manifest = Manifest {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        calibration_file: problem.config.file.display().to_string(),
        scenario: problem.base.name.clone(),
        scenario_hash: problem.base.hash.clone(),
        replications: settings.replications,
        draws: settings.draws,
        seed: settings.seed,
        particles: a.particles,
        max_generations: a.max_generations,
        threads,
        wall_seconds: (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        files: stage.hashes().clone(),
    };
    let text = toml::to_string(&manifest).expect("a manifest is plain data");
    stage.write("sbc.toml", text.as_bytes())?;
    stage.commit()?;
    say!(
        "wrote {}/{{sbc.csv, sbc_summary.csv, sbc.toml}}",
        dir.display()
    );
    say!("");
    say!(
        "{:<48} {:>6} {:>9} {:>9} {:>8} {:>8}",
        "parameter",
        "reps",
        "cover50",
        "cover90",
        "chi2(9)",
        "p"
    );
    for s in &summaries {
        say!(
            "{:<48} {:>6} {:>9.2} {:>9.2} {:>8.2} {:>8.3}",
            s.parameter,
            s.replications,
            s.coverage50,
            s.coverage90,
            s.chi_square,
            s.p_value
        );
    }
    Ok(())
}
