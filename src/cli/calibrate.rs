//! `diaspora calibrate`: ABC-SMC against the observed series, with a checkpoint after every
//! generation, progress on stderr, and the posterior written when it stops.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use diaspora::calibrate::smc::{GenerationStats, Tally};
use diaspora::calibrate::{self, CalibrationError, Config, Problem, Progress, holdout, output};

use diaspora::output::{Target, folder};

use super::progress::{self, duration};
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
}

/// A bar over generations on a terminal; otherwise (e.g. under Slurm) one line per generation
/// and, within a long generation, a line at most every `every`.
struct Report {
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
    let config = Config::read(&args.calibration)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| calibrate::default_dir(&config));
    let problem = Problem::new(config)?;
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
    let state = &outcome.state;
    eprintln!(
        "stopped after generation {}: {}",
        state.population.generation,
        state.stopped.as_ref().map_or("?", |s| s.describe())
    );
    let written = pool
        .install(|| output::write_outputs(&problem, state, &target, threads))
        .map_err(failure)?;

    let sim: f64 = state.history.iter().map(|h| h.simulation_seconds).sum();
    let alg: f64 = state.history.iter().map(|h| h.algorithm_seconds).sum();
    say!(
        "{}: {} generations, {} simulations, final tolerance {:.4}, {:.1} s wall on {threads} thread(s)",
        problem.config.name,
        state.population.generation,
        state.simulations,
        state.population.tolerance,
        state.wall_seconds
    );
    say!(
        "time: simulation {:.1} thread-s ({:.0}% of {threads} thread(s) × wall), algorithm {:.2} s, posterior-predictive {:.1} s",
        sim,
        100.0 * sim / (state.wall_seconds * threads as f64).max(1e-9),
        alg,
        written.predictive_seconds
    );
    let holdout_files = if problem.config.holdout.is_some() {
        "holdout.csv, holdout_forecasts.csv, "
    } else {
        ""
    };
    say!(
        "wrote {}/{{posterior.csv, history.csv, posterior_summary.csv, priors.csv, calibrated.toml, calibration.toml, checkpoint.json, {holdout_files}predictive/}}",
        dir.display()
    );
    say!("");
    say!(
        "{:<48} {:>12} {:>12} {:>12}   {:>12} {:>12}",
        "parameter",
        "p05",
        "median",
        "p95",
        "prior p05",
        "prior p95"
    );
    for s in output::summarise_parameters(&problem, &state.population.particles) {
        say!(
            "{:<48} {:>12.5e} {:>12.5e} {:>12.5e}   {:>12.5e} {:>12.5e}",
            s.path,
            s.p05,
            s.p50,
            s.p95,
            s.prior_p05,
            s.prior_p95
        );
    }
    if let Some(h) = &problem.config.holdout {
        print_holdout(h, &written.holdout);
    }
    Ok(())
}

/// The out-of-sample table: each target's log1p RMSE for the model and the naive forecasts,
/// the skill against persistence and the predictive bands' coverage.
fn print_holdout(years: &std::ops::RangeInclusive<i32>, scores: &[holdout::Score]) {
    say!("");
    say!(
        "held out {}–{} (fitted up to {}): log1p RMSE of the posterior-predictive median and of naive forecasts",
        years.start(),
        years.end(),
        years.start() - 1
    );
    say!(
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
    );
    let opt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:+.2}"));
    for s in scores {
        say!(
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
        );
    }
    if scores.is_empty() {
        say!("  (no target has an observation in the held-out years)");
        return;
    }
    let mean = |i: usize| scores.iter().map(|s| s.rmse[i]).sum::<f64>() / scores.len() as f64;
    say!(
        "  mean over {} target(s): model {:.3}, persistence {:.3}, drift {:.3}",
        scores.len(),
        mean(0),
        mean(1),
        mean(2)
    );
}

fn failure(e: CalibrationError) -> CliError {
    match e {
        CalibrationError::Checkpoint(m) => CliError::Input(m),
        other => CliError::Failure(other.into()),
    }
}
