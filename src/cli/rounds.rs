//! `diaspora calibrate-slurm` (hidden): the two steps of a calibration run in rounds, as the
//! scripts of `calibrate --slurm` run them — `shard` (one array task) and `drive` (the job
//! between rounds). Run by hand, one after the other, they make the same calibration without
//! Slurm.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use diaspora::calibrate::rounds::{self, Step, Work};
use diaspora::calibrate::{Config, Problem};
use diaspora::output::{Target, folder};
use diaspora::sweep::compress;

use super::calibrate::{Report, failure, finish};
use super::{CliError, pool};

#[derive(Args, Debug)]
pub struct RoundsArgs {
    #[command(subcommand)]
    command: RoundsCommand,
}

#[derive(Subcommand, Debug)]
enum RoundsCommand {
    /// Evaluate one shard of the current round (what each task of shard.sbatch runs).
    Shard(ShardArgs),
    /// Read the round's shards and advance the calibration; print the --array=… of the shards
    /// to evaluate next, or `done` once the outputs are written (what driver.sbatch runs).
    Drive(DriveArgs),
}

#[derive(Args, Debug)]
struct ShardArgs {
    /// The calibration's Slurm folder (OUT.slurm/, written by `calibrate --slurm`).
    dir: PathBuf,
    /// Shard to evaluate, 0-based [default: $SLURM_ARRAY_TASK_ID]; the shard count is the
    /// round's, never $SLURM_ARRAY_TASK_COUNT.
    #[arg(long)]
    shard: Option<usize>,
    /// The Slurm array task id: the shard when --shard is not given.
    #[arg(long, env = "SLURM_ARRAY_TASK_ID", hide = true)]
    slurm_array_task_id: Option<usize>,
    /// Evaluate it again even if its file is complete for this round.
    #[arg(long)]
    force: bool,
    /// Worker threads (default: one per core, or $RAYON_NUM_THREADS).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Args, Debug)]
struct DriveArgs {
    /// The calibration's Slurm folder (OUT.slurm/).
    dir: PathBuf,
    /// Worker threads for the outputs' posterior-predictive runs (default: one per core, or
    /// $RAYON_NUM_THREADS).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

pub fn rounds(args: RoundsArgs) -> Result<(), CliError> {
    match args.command {
        RoundsCommand::Shard(a) => shard(a),
        RoundsCommand::Drive(a) => drive(a),
    }
}

/// The calibration the work folder was prepared for, read again (and refused if it changed).
fn load(work: &Work) -> Result<Problem, CliError> {
    let mut config = Config::read(&work.record.calibration)?;
    config.file.clone_from(&work.record.named);
    let problem = Problem::new(config)?;
    work.check(&problem).map_err(failure)?;
    Ok(problem)
}

fn shard(a: ShardArgs) -> Result<(), CliError> {
    let shard = a.shard.or(a.slurm_array_task_id).ok_or_else(|| {
        CliError::Input(
            "--shard: expected the shard to evaluate (or SLURM_ARRAY_TASK_ID, as in an array task)"
                .into(),
        )
    })?;
    let work = Work::open(&a.dir).map_err(failure)?;
    let problem = load(&work)?;
    let pool = pool(a.threads)?;
    let done = pool
        .install(|| rounds::run_shard(&work, &problem, shard, a.force))
        .map_err(failure)?;
    let r = &done.round;
    let what = if done.skipped {
        "already done for this round: kept".to_string()
    } else {
        format!(
            "{} simulated in {:.1} s on {} thread(s)",
            done.simulated,
            done.seconds,
            pool.current_num_threads()
        )
    };
    eprintln!(
        "generation {}, round {}, shard {} of {}: proposals {}..{}: {what} ({})",
        r.generation,
        r.round,
        done.shard,
        r.shards,
        done.proposals.start,
        done.proposals.end,
        done.path.display()
    );
    Ok(())
}

fn drive(a: DriveArgs) -> Result<(), CliError> {
    let work = Work::open(&a.dir).map_err(failure)?;
    let problem = load(&work)?;
    let target = Target::claim(&work.record.output, &folder::CALIBRATION)?;
    let pool = pool(a.threads)?;
    let mut report = Report::plain(work.wall());
    let step = pool
        .install(|| rounds::drive(&work, &problem, &mut report))
        .map_err(failure)?;
    match step {
        Step::Evaluate {
            round,
            shards,
            resubmitted,
        } => {
            for (i, why) in &resubmitted {
                eprintln!(
                    "generation {}, round {}: shard {i}: {why}: resubmitting it (submission {} of at most {})",
                    round.generation,
                    round.round,
                    round.attempts,
                    work.record.retries + 1
                );
            }
            if resubmitted.is_empty() {
                eprintln!(
                    "generation {} at tolerance {}, round {}: proposals {}..{} in {} shard(s)",
                    round.generation,
                    round.tolerance,
                    round.round,
                    round.first,
                    round.end,
                    round.shards
                );
            }
            let throttle = work
                .record
                .max_parallel
                .map_or(String::new(), |k| format!("%{k}"));
            say!("--array={}{throttle}", compress(&shards));
        }
        Step::Stopped(state) => {
            for line in finish(&problem, &state, &target, &pool, &work.record.output)? {
                eprintln!("{line}");
            }
            say!("done");
        }
        Step::Finished => {
            eprintln!(
                "the calibration had stopped and its outputs are in {}: nothing to do",
                work.record.output.display()
            );
            say!("done");
        }
    }
    Ok(())
}
