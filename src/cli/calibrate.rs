//! `diaspora calibrate`: ABC-SMC against the observed series, with a checkpoint after every
//! generation, progress on stderr, and the posterior written when it stops.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use diaspora::calibrate::rounds::{self, Step};
use diaspora::calibrate::smc::{GenerationStats, Tally};
use diaspora::calibrate::{
    self, CalibrationError, Checkpoint, Config, Problem, Progress, holdout, output,
};

use diaspora::output::{Target, folder};

use super::progress::{self, duration};
use super::slurm::SlurmResources;
use super::{CliError, pool};

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Calibration file (TOML): scenario, priors, targets, algorithm settings.
    calibration: PathBuf,
    /// Output folder (default: output/<calibration name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue from the checkpoint in the output folder (same result as an uninterrupted run).
    #[arg(long)]
    resume: bool,
    /// Worker threads (default: one per core). The result does not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// When stderr is not a terminal (a batch job, a log file): write a progress line within a
    /// generation (proposals, rate, ETA) after the first batch this many seconds after the last
    /// line.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    progress_every: f64,
    /// Run on a Slurm cluster instead of here: write OUT.slurm/ beside the output folder (the
    /// scripts and the first round) and print the command that submits it. Each round of
    /// proposals is a job array of shards; a driver job between rounds advances the calibration
    /// and writes the same outputs as a local run. With --resume: continue from the checkpoint.
    #[arg(long)]
    slurm: bool,
    /// With --slurm: shards (array tasks) per round [default: 4].
    #[arg(long, help_heading = "On a Slurm cluster")]
    shards: Option<usize>,
    /// With --slurm: times the driver resubmits the shards of a round that failed or were lost
    /// before it stops and prints the command that resubmits them [default: 2].
    #[arg(long, help_heading = "On a Slurm cluster")]
    retries: Option<u32>,
    #[command(flatten, next_help_heading = "On a Slurm cluster")]
    resources: SlurmResources,
}

/// A bar over generations on a terminal; otherwise (e.g. under Slurm) one line per generation
/// and, within a long generation, a line at most every `every`.
pub(super) struct Report {
    bar: Option<ProgressBar>,
    start: Instant,
    every: Duration,
    /// The current generation and when it started.
    generation: u32,
    generation_start: Instant,
    /// When the last line was written.
    last_line: Instant,
}

impl Report {
    /// One line per generation, elapsed time counted from `elapsed` seconds ago (a Slurm
    /// driver: the calibration's wall-clock time so far, queueing included).
    pub(super) fn plain(elapsed: f64) -> Report {
        let now = Instant::now();
        Report {
            bar: None,
            start: now
                .checked_sub(Duration::from_secs_f64(elapsed.max(0.0)))
                .unwrap_or(now),
            every: Duration::from_secs(30),
            generation: 0,
            generation_start: now,
            last_line: now,
        }
    }

    fn line(&mut self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
        self.last_line = Instant::now();
    }
}

/// Within a generation: proposals so far, their rate, and the time left at the acceptance
/// rate so far.
fn within(generation: u32, t: Tally, elapsed: f64) -> String {
    let eta = if t.accepted == 0 || elapsed <= 0.0 {
        "unknown (none accepted yet)".to_string()
    } else {
        let per_second = t.accepted as f64 / elapsed;
        duration((t.needed - t.accepted) as f64 / per_second)
    };
    format!(
        "generation {generation}: {} proposals, {}/{} accepted, {:.1} proposals/s, ETA {eta}",
        t.proposals,
        t.accepted,
        t.needed,
        t.proposals as f64 / elapsed.max(1e-9)
    )
}

fn tolerance(t: f64) -> String {
    if t.is_finite() {
        format!("{t:.4}")
    } else {
        "∞".into()
    }
}

impl Progress for Report {
    fn generation_started(&mut self, generation: u32, tol: f64) {
        self.generation = generation;
        self.generation_start = Instant::now();
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "generation {generation}: simulating at tolerance {}",
                tolerance(tol)
            ));
        }
    }

    fn generation_done(&mut self, s: &GenerationStats) {
        self.line(format!(
            "generation {:>2}  tolerance {:>8}  simulated {:>5.1}% of proposals  accepted {:>5.1}% of simulations  ESS {:>7.1}  simulations {:>7}  elapsed {:>7.1} s{}",
            s.generation,
            tolerance(s.tolerance),
            100.0 * s.simulated_share(),
            100.0 * s.simulation_acceptance(),
            s.ess,
            s.simulations,
            self.start.elapsed().as_secs_f64(),
            if s.ridge { "  (kernel needed a ridge: a parameter may have no effect)" } else { "" }
        ));
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn batch_done(&mut self, tally: Tally) {
        let text = within(
            self.generation,
            tally,
            self.generation_start.elapsed().as_secs_f64(),
        );
        match &self.bar {
            Some(bar) => bar.set_message(text),
            None if self.last_line.elapsed() >= self.every => self.line(text),
            None => {}
        }
    }
}

pub fn calibrate(args: CalibrateArgs) -> Result<(), CliError> {
    let every = progress::every(args.progress_every)?;
    if !args.slurm {
        let mut given = args.resources.given();
        given.extend(args.shards.map(|_| "--shards"));
        given.extend(args.retries.map(|_| "--retries"));
        if let Some(first) = given.first() {
            return Err(CliError::Input(format!(
                "{first}: only with --slurm (a calibration run on a Slurm cluster)"
            )));
        }
    }
    let config = Config::read(&args.calibration)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| calibrate::default_dir(&config));
    let problem = Problem::new(config)?;
    if args.slurm {
        return prepare_slurm(args, &problem, &dir);
    }
    let target = Target::claim(&dir, &folder::CALIBRATION)?;
    let pool = pool(args.threads)?;
    let threads = pool.current_num_threads();
    let a = &problem.config.algorithm;
    eprintln!(
        "calibrating {} ({} free coordinates, {} targets) with {} particles on {threads} thread(s); checkpoints in {}",
        problem.base.name,
        problem.space.names().len(),
        problem.targets.len(),
        a.particles,
        calibrate::resume_dir(&target).display()
    );
    for d in &problem.dropped {
        eprintln!("{}", super::compare::quirks_line(d));
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(u64::from(a.max_generations) + 1);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} generations  {elapsed_precise}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let now = Instant::now();
    let mut report = Report {
        bar,
        start: now,
        every,
        generation: 0,
        generation_start: now,
        last_line: now,
    };
    let outcome = pool
        .install(|| calibrate::calibrate(&problem, &target, args.resume, &mut report))
        .map_err(failure)?;
    if let Some(bar) = &report.bar {
        bar.finish_and_clear();
    }
    for line in finish(&problem, &outcome.state, &target, &pool, &dir)? {
        say!("{line}");
    }
    Ok(())
}

/// `calibrate --slurm`: the work folder, its scripts and the first round (or, resumed from a
/// calibration that had stopped, its outputs).
fn prepare_slurm(args: CalibrateArgs, problem: &Problem, dir: &Path) -> Result<(), CliError> {
    let options = args.resources.options()?;
    let shards = args.shards.unwrap_or(4);
    if shards == 0 {
        return Err(CliError::Input(
            "--shards: expected at least 1, found 0".into(),
        ));
    }
    let target = Target::claim(dir, &folder::CALIBRATION)?;
    options
        .check(&rounds::work_dir(&target))
        .map_err(CliError::Input)?;
    let prepared = rounds::prepare(
        problem,
        &target,
        &args.calibration,
        shards,
        args.retries.unwrap_or(2),
        options.max_parallel,
        args.resume,
    )
    .map_err(failure)?;
    let work = &prepared.work;
    let written = calibrate::slurm::write(work, &problem.config.name, &options).map_err(failure)?;
    if prepared.discarded {
        eprintln!(
            "note: discarded the checkpoint of an unfinished calibration in {} (--resume continues from it)",
            work.record.checkpoints.display()
        );
    }
    let pool = pool(args.threads)?;
    let mut report = Report::plain(0.0);
    let step = pool
        .install(|| rounds::drive(work, problem, &mut report))
        .map_err(failure)?;
    let Step::Evaluate { round, .. } = step else {
        if let Step::Stopped(state) = step {
            eprintln!("the calibration had stopped: writing its outputs");
            for line in finish(problem, &state, &target, &pool, dir)? {
                say!("{line}");
            }
        }
        return Ok(());
    };
    say!(
        "wrote {}/{{shard.sbatch, driver.sbatch, submit.sh, {}, {}}}: rounds of {shards} shard(s){}, {} CPU(s) and {} each",
        work.dir.display(),
        rounds::RECORD,
        rounds::ROUND,
        options
            .max_parallel
            .map_or(String::new(), |k| format!(", at most {k} at once")),
        options.cpus,
        options.time
    );
    say!(
        "{}: generation {}{}, round 0: proposals {}..{}; the outputs go to {}",
        problem.config.name,
        round.generation,
        prepared.resumed.map_or(String::new(), |g| format!(
            " (resumed after generation {g})"
        )),
        round.first,
        round.end,
        work.record.output.display()
    );
    say!("submit: bash {}", written[2].display());
    Ok(())
}

/// Writes the outputs of a calibration that has stopped and returns the report: totals, time,
/// the files, the posterior table and the held-out scores.
pub(super) fn finish(
    problem: &Problem,
    state: &Checkpoint,
    target: &Target,
    pool: &rayon::ThreadPool,
    dir: &Path,
) -> Result<Vec<String>, CliError> {
    let threads = pool.current_num_threads();
    eprintln!(
        "stopped after generation {}: {}",
        state.population.generation,
        state.stopped.as_ref().map_or("?", |s| s.describe())
    );
    let written = pool
        .install(|| output::write_outputs(problem, state, target, threads))
        .map_err(failure)?;

    let mut out = Vec::new();
    let sim: f64 = state.history.iter().map(|h| h.simulation_seconds).sum();
    let alg: f64 = state.history.iter().map(|h| h.algorithm_seconds).sum();
    out.push(format!(
        "{}: {} generations, {} simulations, final tolerance {:.4}, {:.1} s wall on {threads} thread(s)",
        problem.config.name,
        state.population.generation,
        state.simulations,
        state.population.tolerance,
        state.wall_seconds
    ));
    out.push(format!(
        "time: simulation {:.1} thread-s ({:.0}% of {threads} thread(s) × wall), algorithm {:.2} s, posterior-predictive {:.1} s",
        sim,
        100.0 * sim / (state.wall_seconds * threads as f64).max(1e-9),
        alg,
        written.predictive_seconds
    ));
    let holdout_files = if problem.config.holdout.is_some() {
        "holdout.csv, holdout_forecasts.csv, "
    } else {
        ""
    };
    out.push(format!(
        "wrote {}/{{posterior.csv, history.csv, posterior_summary.csv, priors.csv, calibrated.toml, calibration.toml, checkpoint.json, {holdout_files}predictive/}}",
        dir.display()
    ));
    out.push(String::new());
    out.push(format!(
        "{:<48} {:>12} {:>12} {:>12}   {:>12} {:>12}",
        "parameter", "p05", "median", "p95", "prior p05", "prior p95"
    ));
    for s in output::summarise_parameters(problem, &state.population.particles) {
        out.push(format!(
            "{:<48} {:>12.5e} {:>12.5e} {:>12.5e}   {:>12.5e} {:>12.5e}",
            s.path, s.p05, s.p50, s.p95, s.prior_p05, s.prior_p95
        ));
    }
    if let Some(h) = &problem.config.holdout {
        holdout_table(h, &written.holdout, &mut out);
    }
    Ok(out)
}

/// The out-of-sample table: each target's log1p RMSE for the model and the naive forecasts,
/// the skill against persistence and the predictive bands' coverage.
fn holdout_table(
    years: &std::ops::RangeInclusive<i32>,
    scores: &[holdout::Score],
    out: &mut Vec<String>,
) {
    out.push(String::new());
    out.push(format!(
        "held out {}–{} (fitted up to {}): log1p RMSE of the posterior-predictive median and of naive forecasts",
        years.start(),
        years.end(),
        years.start() - 1
    ));
    out.push(format!(
        "  {:<28} {:<5} {:<6} {:>3} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
        "series",
        "place",
        "sex",
        "n",
        "model",
        "persist",
        "drift",
        "skill_p",
        "skill_d",
        "cover50",
        "cover90"
    ));
    let opt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:+.2}"));
    for s in scores {
        out.push(format!(
            "  {:<28} {:<5} {:<6} {:>3} {:>8.3} {:>8.3} {:>8.3} {:>8} {:>8} {:>7.2} {:>7.2}",
            s.series,
            s.place,
            s.sex,
            s.forecasts.len(),
            s.rmse[0],
            s.rmse[1],
            s.rmse[2],
            opt(s.skill_vs_persistence()),
            opt(s.skill_vs_drift()),
            s.coverage[0],
            s.coverage[1]
        ));
    }
    if scores.is_empty() {
        out.push("  (no target has an observation in the held-out years)".into());
        return;
    }
    let mean = |i: usize| scores.iter().map(|s| s.rmse[i]).sum::<f64>() / scores.len() as f64;
    out.push(format!(
        "  mean over {} target(s): model {:.3}, persistence {:.3}, drift {:.3}",
        scores.len(),
        mean(0),
        mean(1),
        mean(2)
    ));
}

pub(super) fn failure(e: CalibrationError) -> CliError {
    match e {
        CalibrationError::Checkpoint(m) | CalibrationError::Work(m) => CliError::Input(m),
        other => CliError::Failure(other.into()),
    }
}
