//! Slurm scripts of a calibration evaluated in rounds (`calibrate --slurm`), in its work folder
//! `NAME.slurm/` (see `rounds`):
//!
//! * `shard.sbatch` — a job array, one task per shard of the current round; each task runs
//!   `diaspora calibrate-slurm shard W --shard $SLURM_ARRAY_TASK_ID` on its `--cpus-per-task`
//!   cores. A command-line `--array` overrides the script's: `sbatch --array=2 shard.sbatch`
//!   evaluates shard 2 alone.
//! * `driver.sbatch` — `diaspora calibrate-slurm drive W`: reads the round's shards and
//!   advances the calibration; it prints the `--array=…` of the shards to evaluate next (a new
//!   round, or the missing shards of this one) and hands it to `submit.sh`, or `done` once the
//!   outputs are written.
//! * `submit.sh` — submits the shard array (its arguments go to that `sbatch`), then the driver
//!   with `--dependency=afterany:<array>`, so that the driver runs, and resubmits, when a task
//!   failed.
//!
//! Logs go to `W/logs/shard-%A_%a.out` (array job and task) and `W/logs/driver-%j.out`.

use std::path::PathBuf;

use super::CalibrationError;
use super::rounds::Work;
use crate::slurm::{Job, Script, SlurmOptions, sh_quote, submit_script, write_scripts};

/// The three files, as (name, text), of the calibration `name` in the work folder `work`
/// (an absolute path).
pub fn scripts(
    work: &Work,
    name: &str,
    o: &SlurmOptions,
) -> Result<Vec<(&'static str, String)>, CalibrationError> {
    o.check(&work.dir).map_err(CalibrationError::Work)?;
    let dir = &work.dir;
    let logs = dir.join("logs");
    let qdir = sh_quote(&dir.display().to_string());
    let shards = work.record.shards;
    let output = work.record.output.display().to_string();

    let shard_sbatch = dir.join("shard.sbatch").display().to_string();
    let mut shard = Script::new(&[
        &format!(
            "Slurm job array of calibration \"{name}\": task I evaluates shard I of the {shards} of the current"
        ),
        &format!(
            "round ({}) and writes what each of its proposals gave under rounds/.",
            dir.join("round.toml").display()
        ),
        "Written by `diaspora calibrate --slurm`; submitted, with the driver after it, by",
        &format!("    bash {}", dir.join("submit.sh").display()),
        "A task takes its shard from SLURM_ARRAY_TASK_ID and the shard count from round.toml, never from",
        "SLURM_ARRAY_TASK_COUNT (1 when one task is resubmitted: sbatch --array=2 shard.sbatch).",
        &format!(
            "A finished shard is not evaluated again: resubmitting all of {shard_sbatch} is safe."
        ),
    ]);
    shard.sbatch(
        o,
        &Job {
            name: &format!("{name}-shard"),
            array: Some(format!("0-{}{}", shards - 1, o.throttle())),
            cpus: o.cpus,
            mem: true,
            log: logs.join("shard-%A_%a.out"),
        },
    );
    shard.prologue(o);
    shard.threads(o.cpus);
    shard.line(format!(
        "exec \"$DIASPORA\" calibrate-slurm shard {qdir} --shard \"$SLURM_ARRAY_TASK_ID\" --threads \"$RAYON_NUM_THREADS\""
    ));

    let mut driver = Script::new(&[
        &format!(
            "Driver of calibration \"{name}\": reads the shards of the round that ran, decides acceptance in"
        ),
        "proposal order as `diaspora calibrate` does, and submits the next round (or the shards to",
        &format!(
            "resubmit) with another driver after it, or writes the outputs in {output} when it stops."
        ),
        "Started by submit.sh with --dependency=afterany; run it again (sbatch driver.sbatch) after",
        "fixing what stopped it.",
    ]);
    driver.sbatch(
        o,
        &Job {
            name: &format!("{name}-driver"),
            array: None,
            cpus: o.cpus,
            mem: true,
            log: logs.join("driver-%j.out"),
        },
    );
    driver.prologue(o);
    driver.threads(o.cpus);
    driver.line(format!(
        "next=$(\"$DIASPORA\" calibrate-slurm drive {qdir} --threads \"$RAYON_NUM_THREADS\")"
    ));
    driver.line("if [ \"$next\" = done ]; then");
    driver.line("    exit 0");
    driver.line("fi");
    driver.line(format!(
        "exec bash {} \"$next\"",
        sh_quote(&dir.join("submit.sh").display().to_string())
    ));

    let submit = submit_script(
        &[
            &format!(
                "Submits the current round of calibration \"{name}\": its shards as a job array, then the"
            ),
            "driver with --dependency=afterany. Arguments go to the array's sbatch, e.g. only some",
            "shards: bash submit.sh --array=2,5",
        ],
        dir,
        "shard.sbatch",
        ("driver.sbatch", "driver"),
        &format!("tail {}/driver-<job>.out", logs.display()),
    );
    Ok(vec![
        ("shard.sbatch", shard.text()),
        ("driver.sbatch", driver.text()),
        ("submit.sh", submit),
    ])
}

/// Writes the scripts into the work folder (and creates its `logs/`).
pub fn write(work: &Work, name: &str, o: &SlurmOptions) -> Result<Vec<PathBuf>, CalibrationError> {
    let files = scripts(work, name, o)?;
    write_scripts(&work.dir, files)
        .map_err(|(path, e)| CalibrationError::Io(format!("{}: {e}", path.display())))
}
