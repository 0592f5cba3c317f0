//! Merging: every shard must be a complete shard of this plan (plan hash, row block, tables
//! and contents hash all checked), run by one diaspora version, before the results are
//! written, each file atomically, shard after shard (row order): `results.csv`, or the Parquet
//! tables `results/{runs, fit, kept, series}.parquet` ([`super::tables`]). Then
//! `results.toml` records the plan, the format and the BLAKE3 of every results file; it is
//! removed (with the results of any earlier merge) before a new merge starts, so a merge
//! killed half-way, results of another plan or a file edited by hand are never read as the
//! sweep's results.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::design::{Format, Outputs};
use super::folder::{ShardState, SweepDir, compress};
use super::tables::{self, CsvRenderer, NAMES, Tables};
use super::{Incomplete, SweepError};
use crate::output::parquet::{Table, TableWriter};
use crate::output::{AtomicFile, folder, write_atomic};

/// The record of a merge, in the sweep folder.
pub const RESULTS_RECORD: &str = "results.toml";

/// The results of a merge to CSV, in the sweep folder.
pub const RESULTS_CSV: &str = "results.csv";

/// The folder of a merge's Parquet tables, in the sweep folder.
pub const RESULTS_DIR: &str = "results";

/// What `results.toml` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsRecord {
    /// diaspora version that merged.
    pub crate_version: String,
    /// The plan the shards ran.
    pub plan_hash: String,
    /// Runs merged.
    pub runs: usize,
    /// Shards merged.
    pub shards: usize,
    /// The format written.
    pub format: Format,
    /// Every results file (path relative to the sweep folder) and its BLAKE3.
    pub files: BTreeMap<String, String>,
}

/// What merging wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The files written (`results.csv`, or the Parquet tables).
    pub files: Vec<PathBuf>,
    /// The format.
    pub format: Format,
    /// Runs.
    pub runs: usize,
    /// Shards merged.
    pub shards: usize,
    /// Rows written (CSV lines after the header, or table rows in all).
    pub rows: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// The Parquet tables a sweep's merge writes: `runs` and `fit`, `kept` with `keep` entries,
/// `series` with `outputs = "series"`.
pub fn parquet_tables(sweep: &SweepDir) -> Vec<&'static str> {
    let m = &sweep.manifest;
    NAMES
        .into_iter()
        .filter(|&n| match n {
            "kept" => !m.keep.is_empty(),
            "series" => m.outputs() == Outputs::Series,
            _ => true,
        })
        .collect()
}

/// The path, relative to the sweep folder, of results table `name` (one of [`NAMES`]).
pub fn parquet_file(name: &str) -> String {
    format!("{RESULTS_DIR}/{name}.parquet")
}

/// Checks every shard and writes the results in `format`; refuses, naming the unfinished
/// shards, if any shard is missing or invalid.
pub fn merge(sweep: &SweepDir, format: Format) -> Result<Merged, SweepError> {
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
    check_versions(sweep)?;
    remove_results(sweep)?;
    let (names, rows) = match format {
        Format::Csv => (vec![RESULTS_CSV.to_string()], write_csv(sweep)?),
        Format::Parquet => {
            let tables = parquet_tables(sweep);
            let rows = write_parquet(sweep, &tables)?;
            (tables.iter().map(|n| parquet_file(n)).collect(), rows)
        }
    };
    let mut files = BTreeMap::new();
    let mut bytes = 0;
    for name in &names {
        let path = sweep.dir.join(name);
        let hash = folder::file_hash(&path).map_err(|e| SweepError::io(&path, e))?;
        bytes += std::fs::metadata(&path)
            .map_err(|e| SweepError::io(&path, e))?
            .len();
        files.insert(name.clone(), hash);
    }
    let record = ResultsRecord {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        plan_hash: sweep.manifest.plan_hash.clone(),
        runs: sweep.manifest.runs,
        shards: sweep.shards(),
        format,
        files,
    };
    let record_path = sweep.dir.join(RESULTS_RECORD);
    let text = toml::to_string(&record).expect("a record is plain data");
    write_atomic(&record_path, text.as_bytes()).map_err(|e| SweepError::io(&record_path, e))?;
    Ok(Merged {
        files: names.iter().map(|n| sweep.dir.join(n)).collect(),
        format,
        runs: sweep.manifest.runs,
        shards: sweep.shards(),
        rows,
        bytes,
    })
}

/// The plan hash does not cover the binary: refuses shards of different versions.
fn check_versions(sweep: &SweepDir) -> Result<(), SweepError> {
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
    Ok(())
}

/// Removes the record, then the results of any earlier merge (either format).
fn remove_results(sweep: &SweepDir) -> Result<(), SweepError> {
    let mut paths = vec![sweep.dir.join(RESULTS_RECORD), sweep.dir.join(RESULTS_CSV)];
    paths.extend(NAMES.iter().map(|n| sweep.dir.join(parquet_file(n))));
    for p in paths {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(SweepError::io(&p, e));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Shard `i`'s tables, read again (the status pass checked every file, but one may have been
/// replaced meanwhile, and a merge must never mix plans).
fn shard(sweep: &SweepDir, i: usize) -> Result<Tables, SweepError> {
    sweep.read_shard(i).map_err(|s| {
        let why = match s {
            ShardState::Invalid(why) => why,
            _ => "disappeared during the merge".into(),
        };
        SweepError::Dir {
            path: sweep.shard_path(i).display().to_string(),
            message: format!("shard {i}: {why}"),
        }
    })
}

fn create(path: &Path) -> Result<AtomicFile, SweepError> {
    AtomicFile::create(path).map_err(|e| SweepError::io(path, e))
}

/// Writes `results.csv`; returns the lines after the header.
fn write_csv(sweep: &SweepDir) -> Result<usize, SweepError> {
    let path = sweep.dir.join(RESULTS_CSV);
    let io = |e| SweepError::io(&path, e);
    let renderer = CsvRenderer::new(&sweep.plan);
    let mut file = create(&path)?;
    file.writer().write_all(&renderer.header()).map_err(io)?;
    let mut lines = 0;
    for i in 0..sweep.shards() {
        let tables = shard(sweep, i)?;
        lines += renderer.render(&tables, file.writer()).map_err(io)?;
    }
    file.commit().map_err(io)?;
    Ok(lines)
}

/// Writes the Parquet tables `names`; returns their rows in all.
fn write_parquet(sweep: &SweepDir, names: &[&str]) -> Result<usize, SweepError> {
    let dir = sweep.dir.join(RESULTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| SweepError::io(&dir, e))?;
    let m = &sweep.manifest;
    let metadata = vec![
        ("diaspora.version".to_string(), m.crate_version.clone()),
        ("diaspora.sweep".to_string(), m.name.clone()),
        ("diaspora.plan_hash".to_string(), m.plan_hash.clone()),
    ];
    let switches = tables::switches(&sweep.plan);
    let empty = Tables::empty();
    let template = |name: &str| -> Table {
        let t = if name == "runs" {
            tables::merged_runs(&sweep.plan, &switches, &empty)
        } else {
            empty.get(name).clone()
        };
        Table {
            metadata: metadata.clone(),
            ..t
        }
    };
    let paths: Vec<PathBuf> = names
        .iter()
        .map(|n| sweep.dir.join(parquet_file(n)))
        .collect();
    let mut files = paths
        .iter()
        .map(|p| create(p))
        .collect::<Result<Vec<_>, _>>()?;
    let fail = |i: usize, e: crate::output::parquet::TableError| {
        SweepError::io(&paths[i], std::io::Error::other(e.to_string()))
    };
    let mut writers = files
        .iter_mut()
        .zip(names)
        .enumerate()
        .map(|(i, (f, n))| TableWriter::new(f.writer(), &template(n)).map_err(|e| fail(i, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = 0;
    for s in 0..sweep.shards() {
        let tables = shard(sweep, s)?;
        for (i, (w, n)) in writers.iter_mut().zip(names).enumerate() {
            let t = if *n == "runs" {
                tables::merged_runs(&sweep.plan, &switches, &tables)
            } else {
                tables.get(n).clone()
            };
            rows += t.rows();
            w.append(t).map_err(|e| fail(i, e))?;
        }
    }
    for (i, w) in writers.into_iter().enumerate() {
        w.finish().map_err(|e| fail(i, e))?;
    }
    for (f, p) in files.into_iter().zip(&paths) {
        f.commit().map_err(|e| SweepError::io(p, e))?;
    }
    Ok(rows)
}
