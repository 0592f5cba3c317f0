//! Progress off a terminal (a batch job, a log file): one line at most every `--progress-every`
//! seconds, with the work done, its rate and the time left — the calibration's lines within a
//! generation and a sweep shard's lines — and a sweep shard's heartbeat, which replaces its
//! progress file on the same clock so that `diaspora sweep status` can tell it is alive.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diaspora::sweep::SweepDir;
use diaspora::sweep::progress::ShardProgress;

/// Seconds as `45 s`, `3 min 20 s` or `2 h 05 min`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// The `--progress-every` value as a duration, refusing what is not a number of seconds ≥ 0.
pub fn every(seconds: f64) -> Result<Duration, super::CliError> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        super::CliError::Input(format!(
            "--progress-every {seconds}: expected a number of seconds ≥ 0"
        ))
    })
}

/// Unix time now, in seconds.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// This machine's name, as recorded in progress files.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether the process a progress file names still runs, when this machine can tell: it runs
/// here and `/proc` lists processes.
pub fn alive(p: &ShardProgress, here: &str) -> Option<bool> {
    let proc = std::path::Path::new("/proc");
    (p.host == here && proc.join("self").exists()).then(|| proc.join(p.pid.to_string()).exists())
}

/// The progress line of a shard: runs done, rate, time left.
pub fn shard_line(shard: usize, shards: usize, p: &ShardProgress) -> String {
    let rate = p.rate().unwrap_or(0.0);
    let eta = p
        .eta()
        .map_or_else(|| "unknown (no run finished yet)".into(), duration);
    format!(
        "shard {shard} of {shards}: {} of {} runs, {rate:.1} runs/s, ETA {eta}",
        p.done, p.runs
    )
}

/// A shard's heartbeat: a thread that, every period, replaces the shard's progress file with
/// the runs done so far and, off a terminal, prints the progress line on stderr.
pub struct Heartbeat {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Heartbeat {
    /// Starts beating for shard `shard` from `record` (written at once), counting `done`.
    pub fn start(
        sweep: &SweepDir,
        shard: usize,
        record: ShardProgress,
        done: Arc<AtomicUsize>,
        period: Duration,
        lines: bool,
    ) -> Heartbeat {
        let (stop, rx) = mpsc::channel();
        let sweep = sweep.clone();
        let thread = std::thread::spawn(move || {
            let mut record = record;
            loop {
                match rx.recv_timeout(period) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                record.done = done.load(Ordering::Relaxed);
                record.updated = now();
                // The file only informs `status`: a failed write must not stop the shard.
                let _ = sweep.write_progress(shard, &record);
                if lines {
                    eprintln!("{}", shard_line(shard, sweep.shards(), &record));
                }
            }
        });
        Heartbeat { stop, thread }
    }

    /// Stops the thread and waits for it.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
