//! The contrast files: `contrast.csv` (per series × place × sex × year) and
//! `contrast_totals.csv` (per series × sex over a period), rendered to bytes, and
//! `contrast.csv` read back for figures.
//!
//! | column | meaning |
//! |---|---|
//! | `year` / `first_year`, `last_year` | the year, or the period of a total |
//! | `series`, `place`, `sex` | the unit (`place` `*`: summed over the series' places) |
//! | `measure` | totals only: `flow` (summed over the period) or `stock` (at its last year) |
//! | `replicates` | pairs of replicates |
//! | `mean_a`, `mean_b` | each run's mean |
//! | `mean`, `sd`, `p05`, `p50`, `p95` | the paired difference B − A across replicates |
//! | `var_parametric`, `var_stochastic` | its variance between and within parameter draws |
//! | `share_parametric` | `var_parametric / (var_parametric + var_stochastic)` |

use std::collections::BTreeMap;
use std::path::Path;

use super::{Difference, Key, Paired, Total, difference};
use crate::input::FileError;
use crate::observe::Sex;
use crate::output::fmt_value;

const STATS: [&str; 11] = [
    "replicates",
    "mean_a",
    "mean_b",
    "mean",
    "sd",
    "p05",
    "p50",
    "p95",
    "var_parametric",
    "var_stochastic",
    "share_parametric",
];

fn cell(v: Option<f64>) -> String {
    let mut s = String::new();
    if let Some(v) = v.filter(|v| v.is_finite()) {
        // Six significant decimals at most: differences of counts and shares.
        let r = (v * 1e6).round() / 1e6;
        fmt_value(&mut s, if r == 0.0 { 0.0 } else { r });
    }
    s
}

fn stats(n: usize, d: &Difference) -> Vec<String> {
    let split = d.split;
    vec![
        n.to_string(),
        cell(Some(d.mean_a)),
        cell(Some(d.mean_b)),
        cell(Some(d.mean)),
        cell(Some(d.sd)),
        cell(Some(d.p05)),
        cell(Some(d.p50)),
        cell(Some(d.p95)),
        cell(split.map(|s| s.parametric)),
        cell(split.map(|s| s.stochastic)),
        cell(split.and_then(|s| s.parametric_share())),
    ]
}

/// `contrast.csv`, rows ordered by year, series, place and sex.
pub fn contrast_csv(p: &Paired, group: &[usize]) -> Vec<u8> {
    let mut order: Vec<usize> = (0..p.keys.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&p.keys[i], &p.keys[j]);
        (a.year, &a.series, &a.place, a.sex).cmp(&(b.year, &b.series, &b.place, b.sex))
    });
    let mut w = csv::Writer::from_writer(Vec::with_capacity(120 * p.keys.len() + 200));
    let mut header = vec!["year", "series", "place", "sex"];
    header.extend(STATS);
    w.write_record(&header).expect("writes to memory");
    for i in order {
        let k = &p.keys[i];
        let d = difference(&p.a[i], &p.b[i], group);
        let mut rec = vec![
            k.year.to_string(),
            k.series.clone(),
            k.place.clone(),
            k.sex.name().to_string(),
        ];
        rec.extend(stats(p.replicates(), &d));
        w.write_record(&rec).expect("writes to memory");
    }
    w.into_inner().expect("writes to memory")
}

/// `contrast_totals.csv`.
pub fn totals_csv(totals: &[Total], replicates: usize) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["series", "sex", "measure", "first_year", "last_year"];
    header.extend(STATS);
    w.write_record(&header).expect("writes to memory");
    for t in totals {
        let mut rec = vec![
            t.series.clone(),
            t.sex.name().to_string(),
            if t.stock { "stock" } else { "flow" }.to_string(),
            t.years.0.to_string(),
            t.years.1.to_string(),
        ];
        rec.extend(stats(replicates, &t.difference));
        w.write_record(&rec).expect("writes to memory");
    }
    w.into_inner().expect("writes to memory")
}

/// One row of `contrast.csv` read back: the unit-year and the difference's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct ContrastRow {
    /// The unit-year.
    pub key: Key,
    /// Mean, median and 90% band of the difference; NaN where empty.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 5th percentile.
    pub p05: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Parametric share of the variance; NaN where empty.
    pub share_parametric: f64,
}

/// Reads `contrast.csv` as [`contrast_csv`] writes it.
pub fn read(path: &Path) -> Result<Vec<ContrastRow>, FileError> {
    let name = path.display().to_string();
    let format = |line: u64, message: String| FileError::Format {
        path: name.clone(),
        line,
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| FileError::Io {
        path: name.clone(),
        source,
    })?;
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let mut expected = vec!["year", "series", "place", "sex"];
    expected.extend(STATS);
    let header = r.headers().map_err(|e| format(1, e.to_string()))?.clone();
    if header.iter().ne(expected.iter().copied()) {
        return Err(format(
            1,
            format!("expected the header `{}`", expected.join(",")),
        ));
    }
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| format(line, e.to_string()))?;
        let num = |k: usize| -> Result<f64, FileError> {
            match &rec[k] {
                "" => Ok(f64::NAN),
                s => s.parse().map_err(|_| {
                    format(
                        line,
                        format!("{}: expected a number, found \"{s}\"", expected[k]),
                    )
                }),
            }
        };
        let sex = match &rec[3] {
            "female" => Sex::Female,
            "male" => Sex::Male,
            "total" => Sex::Total,
            s => {
                return Err(format(
                    line,
                    format!("sex: expected female, male or total, found \"{s}\""),
                ));
            }
        };
        out.push(ContrastRow {
            key: Key {
                series: rec[1].to_string(),
                place: rec[2].to_string(),
                sex,
                year: num(0)? as i32,
            },
            mean: num(7)?,
            p05: num(9)?,
            p50: num(10)?,
            p95: num(11)?,
            share_parametric: num(14)?,
        });
    }
    Ok(out)
}

/// `manifest.toml` of a contrast folder: which runs were paired, how, and by what command.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ContrastManifest {
    /// diaspora version.
    pub crate_version: String,
    /// Run A's folder and scenario name.
    pub run_a: String,
    /// Run A's scenario.
    pub scenario_a: String,
    /// Run B's folder.
    pub run_b: String,
    /// Run B's scenario.
    pub scenario_b: String,
    /// Seeds of A and B.
    pub seeds: [u64; 2],
    /// Paired replicates.
    pub replicates: usize,
    /// Parameter draws the variance is split over (1: no posterior).
    pub draws: usize,
    /// First year any value differs, if any does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<i32>,
    /// Period of `contrast_totals.csv`.
    pub totals_years: [i32; 2],
    /// The command.
    pub command: String,
    /// BLAKE3 of every file written beside the manifest.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}
