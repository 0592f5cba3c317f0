//! Merging: every shard must be a complete shard of this plan (plan hash, row block, row count
//! and contents hash all checked), run by one diaspora version, before `results.csv` is
//! written, atomically, as the results columns followed by the shards' rows in shard order,
//! which is row order. Then `results.toml` records the plan and the BLAKE3 of `results.csv`;
//! it is removed before a new merge starts, so a merge killed half-way, a `results.csv` of
//! another plan or one edited by hand is never read as the sweep's results.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::folder::{ShardState, SweepDir, compress, results_header};
use super::{Incomplete, SweepError};
use crate::output::{write_atomic, write_atomic_with};

/// The record of a merge, beside `results.csv`.
pub const RESULTS_RECORD: &str = "results.toml";

/// What `results.toml` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsRecord {
    /// diaspora version that merged.
    pub crate_version: String,
    /// The plan the shards ran.
    pub plan_hash: String,
    /// Runs and shards merged.
    pub runs: usize,
    /// Shards merged.
    pub shards: usize,
    /// BLAKE3 of `results.csv`.
    pub results_hash: String,
}

/// What merging wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// `results.csv`.
    pub path: PathBuf,
    /// Runs.
    pub runs: usize,
    /// Shards merged.
    pub shards: usize,
    /// Lines written after the header.
    pub lines: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Checks every shard and writes `results.csv`; refuses, naming the unfinished shards, if any
/// shard is missing or invalid.
pub fn merge(sweep: &SweepDir) -> Result<Merged, SweepError> {
    let status = sweep.status();
    if !status.todo().is_empty() {
        let script = sweep.script_path();
        return Err(SweepError::Incomplete(Incomplete {
            shards: sweep.shards(),
            missing: status.missing,
            invalid: status.invalid,
            script: script.exists().then(|| script.display().to_string()),
            dir: sweep.dir.display().to_string(),
        }));
    }
    // The plan hash does not cover the binary: refuse to mix shards of different versions.
    let mut versions: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..sweep.shards() {
        let v = sweep
            .shard_header(i)
            .map_or_else(String::new, |h| h.version);
        versions.entry(v).or_default().push(i);
    }
    if versions.len() > 1 {
        let list: Vec<String> = versions
            .iter()
            .map(|(v, ids)| format!("{v} ran {}", compress(ids)))
            .collect();
        return Err(SweepError::Dir {
            path: sweep.dir.display().to_string(),
            message: format!(
                "shards were run by different diaspora versions ({}): rerun the others with --force",
                list.join("; ")
            ),
        });
    }
    let path = sweep.results_path();
    let record_path = sweep.dir.join(RESULTS_RECORD);
    match std::fs::remove_file(&record_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(SweepError::io(&record_path, e));
        }
        _ => {}
    }
    let mut lines = 0;
    let mut hasher = blake3::Hasher::new();
    let bytes = write_atomic_with(&path, |w| {
        let header = results_header(&sweep.manifest.parameters);
        hasher.update(&header);
        w.write_all(&header)?;
        for i in 0..sweep.shards() {
            // Read again (the status pass above checked every file): the file may have been
            // replaced meanwhile, and a merge must never mix plans.
            let data = sweep.read_shard(i).map_err(|s| {
                let why = match s {
                    ShardState::Invalid(why) => why,
                    _ => "disappeared during the merge".into(),
                };
                std::io::Error::other(format!("shard {i}: {why}"))
            })?;
            lines += data.iter().filter(|&&b| b == b'\n').count();
            hasher.update(&data);
            w.write_all(&data)?;
        }
        Ok(())
    })
    .map_err(|e| SweepError::io(&path, e))?;
    let record = ResultsRecord {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        plan_hash: sweep.manifest.plan_hash.clone(),
        runs: sweep.manifest.runs,
        shards: sweep.shards(),
        results_hash: hasher.finalize().to_hex().to_string(),
    };
    let text = toml::to_string(&record).expect("a record is plain data");
    write_atomic(&record_path, text.as_bytes()).map_err(|e| SweepError::io(&record_path, e))?;
    Ok(Merged {
        path,
        runs: sweep.manifest.runs,
        shards: sweep.shards(),
        lines,
        bytes,
    })
}
