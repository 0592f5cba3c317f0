//! Merging: every shard must be a complete shard of this plan (plan hash, row block, row count
//! and contents hash all checked), run by one diaspora version, before `results.csv` is
//! written, atomically, as the results columns followed by the shards' rows in shard order,
//! which is row order.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use super::folder::{ShardState, SweepDir, compress, results_header};
use super::{Incomplete, SweepError};
use crate::output::write_atomic_with;

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
    let mut lines = 0;
    let bytes = write_atomic_with(&path, |w| {
        w.write_all(&results_header(&sweep.manifest.parameters))?;
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
            w.write_all(&data)?;
        }
        Ok(())
    })
    .map_err(|e| SweepError::io(&path, e))?;
    Ok(Merged {
        path,
        runs: sweep.manifest.runs,
        shards: sweep.shards(),
        lines,
        bytes,
    })
}
