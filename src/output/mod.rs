//! Run outputs: `series.csv`, `summary.csv`, `manifest.toml` and the resolved scenario, each
//! rendered to bytes here and written into a fresh folder that replaces the previous run's whole
//! ([`folder`]), so a failed or killed run leaves the previous folder as it was. The manifest
//! records the BLAKE3 hash of every other file; [`folder::verify`] refuses a folder that no
//! longer matches it.
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `series.csv` | replicate × year × series × place × sex | `replicate,year,series,place,sex,value` |
//! | `summary.csv` | year × series × place × sex | `year,series,place,sex,mean,sd,p05,p50,p95` |
//!
//! With `--format parquet` the same tables are `series.parquet` and `summary.parquet`
//! ([`parquet`]).

mod atomic;
pub mod folder;
pub mod parquet;
mod read;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use atomic::{AtomicFile, write_atomic, write_atomic_with};
pub use folder::{FolderError, Lock, Staging, Target};
pub use read::{
    ReadError, RunInfo, read_manifest, read_run_series, read_run_summary, read_series, read_summary,
};

use crate::observe::{Layout, Row};

/// Formats a value: integers without a decimal point, other numbers in shortest round-trip form.
pub fn fmt_value(out: &mut String, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Formats a summary statistic to at most six decimals.
fn fmt_stat(out: &mut String, v: f64) {
    if v.is_nan() {
        return; // empty cell: undefined (e.g. sd of one replicate)
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    out.push_str(if s == "-0" { "0" } else { s });
}

/// Renders `series.csv` for replicates given as `(replicate index, rows)`.
pub fn series_csv(layout: &Layout, replicates: &[(u32, &[Row])]) -> Vec<u8> {
    let rows: usize = replicates.iter().map(|r| r.1.len()).sum();
    let mut out = String::with_capacity(32 * rows + 64);
    out.push_str("replicate,year,series,place,sex,value\n");
    for (rep, rows) in replicates {
        for row in *rows {
            let _ = write!(
                out,
                "{rep},{},{},{},{},",
                row.year,
                layout.series[usize::from(row.series)],
                layout.places[usize::from(row.place)],
                row.sex.name()
            );
            fmt_value(&mut out, row.value);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// One row of `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// The key (value field unused).
    pub key: Row,
    /// Mean across replicates.
    pub mean: f64,
    /// Sample standard deviation (NaN for one replicate).
    pub sd: f64,
    /// 5th percentile.
    pub p05: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// Quantile by linear interpolation between order statistics (Hyndman & Fan type 7, the
/// default of R and NumPy); `sorted` must be sorted and non-empty.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Summarises replicates row by row. Every replicate has the same rows in the same order.
pub fn summarise(replicates: &[&[Row]]) -> Vec<SummaryRow> {
    let Some(first) = replicates.first() else {
        return Vec::new();
    };
    let n = replicates.len();
    let mut values = Vec::with_capacity(n);
    first
        .iter()
        .enumerate()
        .map(|(i, key)| {
            values.clear();
            values.extend(replicates.iter().map(|r| {
                debug_assert!(
                    r[i].series == key.series && r[i].year == key.year && r[i].place == key.place
                );
                r[i].value
            }));
            let mean = values.iter().sum::<f64>() / n as f64;
            let sd = if n > 1 {
                (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
            } else {
                f64::NAN
            };
            values.sort_by(f64::total_cmp);
            SummaryRow {
                key: *key,
                mean,
                sd,
                p05: quantile(&values, 0.05),
                p50: quantile(&values, 0.5),
                p95: quantile(&values, 0.95),
            }
        })
        .collect()
}

/// Renders `summary.csv`.
pub fn summary_csv(layout: &Layout, rows: &[SummaryRow]) -> Vec<u8> {
    let mut out = String::with_capacity(48 * rows.len() + 64);
    out.push_str("year,series,place,sex,mean,sd,p05,p50,p95\n");
    for r in rows {
        let k = &r.key;
        let _ = write!(
            out,
            "{},{},{},{},",
            k.year,
            layout.series[usize::from(k.series)],
            layout.places[usize::from(k.place)],
            k.sex.name()
        );
        for (i, v) in [r.mean, r.sd, r.p05, r.p50, r.p95].into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            fmt_stat(&mut out, v);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `manifest.toml`: what produced a run directory.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// diaspora version.
    pub crate_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file as given.
    pub scenario_file: String,
    /// BLAKE3 of the resolved scenario (`scenario.toml` in the run directory).
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
    /// Replicates.
    pub replicates: u32,
    /// Worker threads.
    pub threads: usize,
    /// Agents created, all replicates.
    pub agents_created: u64,
    /// Agent-months simulated (creation to end of run), all replicates.
    pub agent_months: u64,
    /// Scheduled events processed, all replicates.
    pub events: u64,
    /// Wall-clock seconds of the simulation (excluding output).
    pub wall_time_seconds: f64,
    /// `--set` overrides applied.
    pub overrides: Vec<String>,
    /// Observed sources the scenario names, as found from where the run was started.
    #[serde(default)]
    pub observed: Vec<String>,
    /// Command line.
    pub command: String,
    /// Parameters drawn from a posterior (`diaspora run --posterior`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posterior: Option<PosteriorDraws>,
    /// BLAKE3 of every other file of the folder, by name (`compare`, `plot` and `sweep` refuse
    /// a folder whose files no longer match).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// Which posterior a run drew its parameters from, and which particle each draw took.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PosteriorDraws {
    /// The calibration folder or posterior file, as given to `--posterior`.
    pub calibration: String,
    /// BLAKE3 of its `posterior.csv`.
    pub posterior_hash: String,
    /// Number of draws; replicate `k` uses draw `k mod draws`.
    pub draws: u32,
    /// The particle (0-based row of `posterior.csv`) of each draw.
    pub particles: Vec<usize>,
}

/// Writes `files` (name, bytes) into `dir` (created if needed), each atomically: for files that
/// are not a folder of results (manual pages).
pub fn write_files(dir: &Path, files: &[(&str, Vec<u8>)]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in files {
        write_atomic(&dir.join(name), bytes)?;
    }
    Ok(())
}

/// Writes a run folder's `files` (name, bytes) under `prefix` (empty, or a subfolder such as
/// `predictive/`) of `stage`, then its manifest listing their hashes; returns the manifest's
/// hash.
pub fn write_run(
    stage: &mut Staging<'_>,
    prefix: &str,
    files: &[(&str, Vec<u8>)],
    mut manifest: Manifest,
) -> Result<String, FolderError> {
    for (name, bytes) in files {
        let hash = stage.write(&format!("{prefix}{name}"), bytes)?;
        manifest.files.insert((*name).to_string(), hash);
    }
    let text = toml::to_string(&manifest).expect("a manifest is plain data");
    stage.write(&format!("{prefix}manifest.toml"), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Sex;

    #[test]
    fn quantiles_match_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert!((quantile(&v, 0.95) - 8.8).abs() < 1e-12);
        assert!((quantile(&v, 0.05) - 1.2).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.05), 7.0);
    }

    #[test]
    fn summary_statistics() {
        let row = |v| Row {
            year: 2000,
            series: 0,
            place: 0,
            sex: Sex::Total,
            value: v,
        };
        let a = [row(1.0)];
        let b = [row(3.0)];
        let s = summarise(&[&a, &b]);
        assert_eq!(s[0].mean, 2.0);
        assert!((s[0].sd - 2f64.sqrt()).abs() < 1e-12);
        let layout = Layout {
            series: vec!["x".into()],
            places: vec!["P".into()],
        };
        let text = String::from_utf8(summary_csv(&layout, &s)).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "2000,x,P,total,2,1.414214,1.1,2,2.9"
        );
        let one = summarise(&[&a]);
        let text = String::from_utf8(summary_csv(&layout, &one)).unwrap();
        assert_eq!(text.lines().nth(1).unwrap(), "2000,x,P,total,1,,1,1,1");
    }

    #[test]
    fn values_print_as_integers_when_whole() {
        let mut s = String::new();
        fmt_value(&mut s, 12.0);
        s.push(' ');
        fmt_value(&mut s, 0.25);
        assert_eq!(s, "12 0.25");
    }
}
