//! `diaspora sweep`: plan a design, run shards (one, from a Slurm array task, or all here),
//! report status, merge, and write Slurm scripts.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use diaspora::sweep::{
    self, Design, Format, Runner, ShardOutcome, SweepDir, SweepError, Timing, compress,
};

use diaspora::output::Lock;
use diaspora::sweep::progress::{RunState, ShardProgress, ShardReport};

use super::progress::{self, Heartbeat};
use super::run::TableFormat;
use super::slurm::SlurmResources;
use super::{CliError, pool};

/// The sweep folder's lock (`.NAME.lock` beside it): exclusive to plan, merge or analyse it,
/// shared to run shards (many at once, as a Slurm array does), so a folder is never replanned
/// or merged under a running shard.
pub(super) fn lock(dir: &Path, exclusive: bool) -> Result<Lock, CliError> {
    if exclusive && let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            CliError::Input(format!(
                "{}: cannot create {}: {e}",
                dir.display(),
                parent.display()
            ))
        })?;
    }
    Ok(if exclusive {
        Lock::exclusive(dir)?
    } else {
        Lock::shared(dir)?
    })
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: SweepCommand,
}

#[derive(Subcommand, Debug)]
enum SweepCommand {
    /// Expand a design file into DIR/plan.csv and DIR/manifest.toml (every point validated).
    Plan(PlanArgs),
    /// Run one shard (--shard I, or the Slurm array task id) or every shard (--all).
    Run(RunArgs),
    /// Each shard done, running (with its progress), failed (with its error), killed or not
    /// started; an ETA; the sbatch command that resubmits the unfinished.
    Status(StatusArgs),
    /// Check every shard and write DIR/results.csv or the Parquet tables DIR/results/*.parquet.
    Merge(MergeArgs),
    /// Write DIR/slurm/{run.sbatch, merge.sbatch, submit.sh}.
    Slurm(SlurmArgs),
}

#[derive(Args, Debug)]
struct PlanArgs {
    /// Sweep design file (TOML).
    design: PathBuf,
    /// Sweep folder (default: output/sweeps/<sweep name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Number of shards (Slurm array tasks); rows are split into contiguous blocks.
    #[arg(long, default_value_t = 1)]
    shards: usize,
    /// Replace a different plan already in the folder.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Sweep folder (planned with `diaspora sweep plan`).
    dir: PathBuf,
    /// Shard to run, 0-based [default: $SLURM_ARRAY_TASK_ID]. The shard count is the plan's,
    /// never $SLURM_ARRAY_TASK_COUNT (which is 1 when one task is resubmitted).
    #[arg(long, conflicts_with = "all")]
    shard: Option<usize>,
    /// The Slurm array task id: the shard when --shard is not given (ignored with --all).
    #[arg(long, env = "SLURM_ARRAY_TASK_ID", hide = true)]
    slurm_array_task_id: Option<usize>,
    /// Run every unfinished shard here, with a progress bar.
    #[arg(long)]
    all: bool,
    /// Rerun shards that are already complete.
    #[arg(long)]
    force: bool,
    /// Worker threads (default: one per core, or $RAYON_NUM_THREADS).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seconds between heartbeats: each replaces the shard's progress file (read by `sweep
    /// status`) and, when stderr is not a terminal (a batch job, a log file), writes a progress
    /// line (runs done, rate, ETA). At least 0.1.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    progress_every: f64,
}

#[derive(Args, Debug)]
struct StatusArgs {
    /// Sweep folder.
    dir: PathBuf,
    /// Print only the shards to run (neither finished nor running), as an --array list (e.g.
    /// 2,5,7-9; empty if none).
    #[arg(long)]
    missing: bool,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Sweep folder.
    dir: PathBuf,
    /// `csv`: DIR/results.csv (long, one row per run × measure); `parquet`: the tables
    /// DIR/results/{runs, fit, kept, series}.parquet [default: the design's `format`, else csv].
    #[arg(long, value_enum)]
    format: Option<TableFormat>,
}

#[derive(Args, Debug)]
struct SlurmArgs {
    /// Sweep folder.
    dir: PathBuf,
    #[command(flatten)]
    resources: SlurmResources,
}

impl From<SweepError> for CliError {
    fn from(e: SweepError) -> Self {
        if e.is_input() {
            CliError::Input(e.to_string())
        } else {
            CliError::Failure(anyhow::anyhow!("{e}"))
        }
    }
}

pub fn sweep(args: SweepArgs) -> Result<(), CliError> {
    match args.command {
        SweepCommand::Plan(a) => plan(a),
        SweepCommand::Run(a) => run(a),
        SweepCommand::Status(a) => status(a),
        SweepCommand::Merge(a) => merge(a),
        SweepCommand::Slurm(a) => slurm(a),
    }
}

fn plan(a: PlanArgs) -> Result<(), CliError> {
    let start = Instant::now();
    let design = Design::read(&a.design)?;
    let dir = a
        .out
        .unwrap_or_else(|| Path::new("output").join("sweeps").join(&design.name));
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let _lock = lock(&dir, true)?;
    let planned = sweep::plan(&design, &dir, a.shards, a.force, &command)?;
    let m = &planned.manifest;
    say!(
        "sweep \"{}\": {} {} point(s) × {} replicate(s) = {} runs of scenario \"{}\", {} parameter(s)",
        m.name,
        m.method,
        m.points,
        m.replicates,
        m.runs,
        m.scenario,
        m.parameters.len()
    );
    say!(
        "every point validated in {:.2} s; plan {}, {} shard(s) of about {} run(s){}",
        start.elapsed().as_secs_f64(),
        sweep::plan::short(&m.plan_hash),
        m.shards,
        m.runs.div_ceil(m.shards),
        if planned.unchanged {
            " (unchanged)"
        } else {
            ""
        }
    );
    for n in &planned.notes {
        say!("note: {n}");
    }
    let d = dir.display();
    say!("wrote {d}/{{plan.csv, manifest.toml, scenario.toml, design.toml, observed/}}");
    say!("next: diaspora sweep run {d} --all      (every shard here)");
    say!("  or: diaspora sweep slurm {d} && bash {d}/slurm/submit.sh      (a Slurm job array)");
    Ok(())
}

fn run(a: RunArgs) -> Result<(), CliError> {
    let _lock = lock(&a.dir, false)?;
    let sweep = SweepDir::open(&a.dir)?;
    let shards: Vec<usize> = if a.all {
        (0..sweep.shards()).collect()
    } else {
        match a.shard.or(a.slurm_array_task_id) {
            Some(i) => {
                sweep.check_shard(i)?;
                vec![i]
            }
            None => {
                return Err(CliError::Input(
                    "give --shard I or --all (or run inside a Slurm array task, which sets SLURM_ARRAY_TASK_ID)"
                        .into(),
                ));
            }
        }
    };
    let pool = pool(a.threads)?;
    let threads = pool.current_num_threads();
    let runner = Runner::new(&sweep)?;
    let n = sweep.shards();

    let total_runs: usize = shards.iter().map(|&i| sweep.shard_rows(i).len()).sum();
    let bar = if a.all && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total_runs as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} runs (eta {eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        Some(bar)
    } else {
        None
    };
    let say_line = |line: String| match &bar {
        Some(b) => b.suspend(|| say!("{line}")),
        None => say!("{line}"),
    };
    let done = Arc::new(AtomicUsize::new(0));
    let tick = || {
        done.fetch_add(1, Ordering::Relaxed);
        if let Some(b) = &bar {
            b.inc(1);
        }
    };

    let start = Instant::now();
    let (mut ran, mut skipped, mut runs) = (0, 0, 0);
    let mut timing = Timing::default();
    let period = progress::every(a.progress_every)?.max(Duration::from_millis(100));
    let host = progress::host();
    for &i in &shards {
        let rows = sweep.shard_rows(i);
        if !a.force && sweep.read_shard(i).is_ok() {
            skipped += 1;
            if let Some(b) = &bar {
                b.inc(rows.len() as u64);
            }
            say_line(format!(
                "shard {i} of {n}: already complete (plan {}), skipped; --force reruns it",
                sweep::plan::short(&sweep.manifest.plan_hash)
            ));
            continue;
        }
        let mut record = ShardProgress {
            state: RunState::Running,
            plan: sweep.manifest.plan_hash.clone(),
            host: host.clone(),
            pid: std::process::id(),
            started: progress::now(),
            updated: progress::now(),
            every: period.as_secs_f64(),
            runs: rows.len(),
            done: 0,
            error: None,
        };
        sweep.write_progress(i, &record)?;
        done.store(0, Ordering::Relaxed);
        let beat = Heartbeat::start(
            &sweep,
            i,
            record.clone(),
            done.clone(),
            period,
            bar.is_none(),
        );
        let outcome = pool.install(|| runner.run_shard(i, a.force, &tick));
        beat.stop();
        record.done = done.load(Ordering::Relaxed);
        record.updated = progress::now();
        let (r, seconds, t, path) = match outcome {
            Ok(ShardOutcome::Ran {
                runs,
                seconds,
                timing,
                path,
            }) => (runs, seconds, timing, path),
            // Completed meanwhile by another runner (the check above is not atomic with it).
            Ok(ShardOutcome::Skipped) => {
                skipped += 1;
                continue;
            }
            Err(e) => {
                record.state = RunState::Failed;
                record.error = Some(e.to_string().lines().last().unwrap_or_default().into());
                let _ = sweep.write_progress(i, &record);
                return Err(e.into());
            }
        };
        record.state = RunState::Done;
        sweep.write_progress(i, &record)?;
        ran += 1;
        runs += r;
        timing = timing + t;
        say_line(format!(
            "shard {i} of {n}: rows {}-{}, {r} runs in {seconds:.2} s ({:.1} runs/s on {threads} thread(s)) -> {}",
            rows.start,
            rows.end - 1,
            r as f64 / seconds.max(1e-9),
            path.display()
        ));
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let seconds = start.elapsed().as_secs_f64();
    if runs > 0 {
        let per = |x: f64| x / runs as f64 * 1000.0;
        say!(
            "{runs} runs in {ran} shard(s) in {seconds:.2} s on {threads} thread(s): {:.1} runs/s{}",
            runs as f64 / seconds.max(1e-9),
            if skipped > 0 {
                format!(" ({skipped} shard(s) already complete, skipped)")
            } else {
                String::new()
            }
        );
        say!(
            "per run (thread time): scenario {:.2} ms, simulation {:.2} ms, fit and output {:.2} ms",
            per(timing.scenario),
            per(timing.simulate),
            per(timing.results)
        );
    }
    if a.all {
        say!("next: diaspora sweep merge {}", a.dir.display());
    }
    Ok(())
}

fn status(a: StatusArgs) -> Result<(), CliError> {
    let sweep = SweepDir::open(&a.dir)?;
    let host = progress::host();
    let reports = sweep::progress::reports(&sweep, progress::now(), &|p| progress::alive(p, &host));
    let todo: Vec<usize> = (0..reports.len())
        .filter(|&i| reports[i].needs_running())
        .collect();
    if a.missing {
        say!("{}", compress(&todo));
        return Ok(());
    }
    let m = &sweep.manifest;
    let n = sweep.shards();
    say!(
        "sweep \"{}\": {} runs in {n} shard(s), plan {}",
        m.name,
        m.runs,
        sweep::plan::short(&m.plan_hash)
    );
    let of = |pick: fn(&ShardReport) -> bool| -> Vec<usize> {
        (0..n).filter(|&i| pick(&reports[i])).collect()
    };
    let done = of(|r| matches!(r, ShardReport::Done));
    let done_runs: usize = done.iter().map(|&i| sweep.shard_rows(i).len()).sum();
    let list = |ids: &[usize]| {
        if ids.is_empty() {
            "none".to_string()
        } else {
            compress(ids)
        }
    };
    say!(
        "finished: {} of {n} shard(s), {done_runs} of {} runs ({})",
        done.len(),
        m.runs,
        list(&done)
    );
    let (mut running_runs, mut rate) = (0, 0.0);
    for (i, r) in reports.iter().enumerate() {
        match r {
            ShardReport::Running(p) => {
                running_runs += p.done;
                rate += p.rate().unwrap_or(0.0);
                say!(
                    "running:  {} (on {}, pid {}, heartbeat {} ago)",
                    progress::shard_line(i, n, p),
                    p.host,
                    p.pid,
                    progress::duration(progress::now() - p.updated)
                );
            }
            ShardReport::Failed(p) => say!(
                "failed:   shard {i}: {} (on {}, after {} of {} runs)",
                p.error.as_deref().unwrap_or("no error recorded"),
                p.host,
                p.done,
                p.runs
            ),
            ShardReport::Killed(p) => say!(
                "killed:   shard {i}: process {} on {} is gone, {} of {} runs done when last seen (its results are lost)",
                p.pid,
                p.host,
                p.done,
                p.runs
            ),
            ShardReport::Stalled {
                progress: p,
                silent,
            } => say!(
                "stalled:  shard {i}: no heartbeat from {} (pid {}) for {}, {} of {} runs done when last seen (killed? a time limit?)",
                p.host,
                p.pid,
                progress::duration(*silent),
                p.done,
                p.runs
            ),
            ShardReport::Invalid(why) => say!("invalid:  shard {i}: {why}"),
            ShardReport::Done | ShardReport::NotStarted => {}
        }
    }
    let never = of(|r| matches!(r, ShardReport::NotStarted));
    if !never.is_empty() {
        say!("not started: {} ({})", never.len(), compress(&never));
    }
    let left = m.runs.saturating_sub(done_runs + running_runs);
    if left == 0 && todo.is_empty() {
        say!("next: diaspora sweep merge {}", a.dir.display());
        return Ok(());
    }
    let running = of(|r| matches!(r, ShardReport::Running(_))).len();
    if rate > 0.0 {
        say!(
            "ETA:      {} for the {left} run(s) left, at the rate of the {running} running shard(s) ({rate:.1} runs/s){}",
            progress::duration(left as f64 / rate),
            if todo.is_empty() {
                ""
            } else {
                " if the unfinished shards are run as fast"
            }
        );
    } else if running > 0 {
        say!("ETA:      unknown ({left} run(s) left, none finished by a running shard yet)");
    } else {
        say!("ETA:      unknown ({left} run(s) left, no shard running)");
    }
    if todo.is_empty() {
        return Ok(());
    }
    let script = sweep.script_path();
    let array = compress(&todo);
    if script.exists() {
        say!("resubmit: sbatch --array={array} {}", script.display());
    } else {
        say!(
            "resubmit: sbatch --array={array} <array script>   (write one with: diaspora sweep slurm {})",
            a.dir.display()
        );
    }
    say!(
        "or here:  diaspora sweep run {} --all   (runs only unfinished shards)",
        a.dir.display()
    );
    Ok(())
}

fn merge(a: MergeArgs) -> Result<(), CliError> {
    let start = Instant::now();
    let _lock = lock(&a.dir, true)?;
    let sweep = SweepDir::open(&a.dir)?;
    let format = match a.format {
        Some(TableFormat::Csv) => Format::Csv,
        Some(TableFormat::Parquet) => Format::Parquet,
        None => sweep.manifest.format,
    };
    let merged = sweep::merge(&sweep, format).map_err(|e| match e {
        SweepError::Incomplete(i) => CliError::Failure(anyhow::anyhow!("cannot merge: {i}")),
        other => other.into(),
    })?;
    let written = match merged.files.as_slice() {
        [one] => one.display().to_string(),
        files => {
            let names: Vec<String> = files
                .iter()
                .filter_map(|f| f.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            format!(
                "{}/{{{}}}",
                a.dir.join(sweep::merge::RESULTS_DIR).display(),
                names.join(", ")
            )
        }
    };
    say!(
        "merged {} shard(s), {} runs, {} rows -> {written} ({:.1} MB) in {:.2} s",
        merged.shards,
        merged.runs,
        merged.rows,
        merged.bytes as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn slurm(a: SlurmArgs) -> Result<(), CliError> {
    let sweep = SweepDir::open(&a.dir)?;
    let options = a.resources.options()?;
    let written = sweep::slurm::write(&sweep, &options)?;
    let n = sweep.shards();
    let dir = written[0].parent().unwrap_or(Path::new("."));
    say!(
        "wrote {}/{{run.sbatch, merge.sbatch, submit.sh}}: an array of {n} task(s){}, {} CPU(s) and {} each",
        dir.display(),
        options
            .max_parallel
            .map_or(String::new(), |k| format!(", at most {k} at once")),
        options.cpus,
        options.time
    );
    if n > 1001 {
        say!(
            "note: {n} tasks exceed Slurm's default MaxArraySize (1001); plan fewer shards if the cluster keeps the default"
        );
    }
    say!("submit: bash {}", written[2].display());
    Ok(())
}
