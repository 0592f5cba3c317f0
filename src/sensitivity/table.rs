//! `sensitivity.csv`: every index of every analysed output, long format, and the same rows read
//! back (for figures).
//!
//! | column | meaning |
//! |---|---|
//! | `output`, `year` | the output (`distance` or a `keep` entry) and, for entries kept per year, the year |
//! | `method` | `morris` or `sobol` |
//! | `parameter`, `with` | the parameter path (and the second parameter of an `S2` row); empty for the output's own rows |
//! | `index` | `variance`, `noise_share` (per output); `mu`, `mu_star`, `sigma` (Morris); `S1`, `ST`, `S2` (Sobol) |
//! | `value`, `ci_low`, `ci_high` | the estimate and its bootstrap interval (empty where there is none) |
//! | `rank` | the parameter's rank for the output, 1 = most influential (by `mu_star` or `ST`) |

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{Indices, OutputAnalysis};
use crate::input::FileError;
use crate::output::fmt_value;
use crate::sweep::results::OutputName;

/// The table's file name, in the sweep folder.
pub const CSV: &str = "sensitivity.csv";

/// The record beside it: the BLAKE3 of the table and of the `results.csv` it was computed from.
pub const RECORD: &str = "sensitivity.toml";

/// What `sensitivity.toml` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    /// diaspora version.
    pub crate_version: String,
    /// File name → BLAKE3.
    pub files: BTreeMap<String, String>,
}

/// What a row of `sensitivity.csv` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// Variance of the analysed values.
    Variance,
    /// Replicate-noise share of that variance.
    NoiseShare,
    /// Morris mean effect.
    Mu,
    /// Morris mean absolute effect.
    MuStar,
    /// Morris standard deviation of effects.
    Sigma,
    /// First-order Sobol index.
    S1,
    /// Total Sobol index.
    ST,
    /// Second-order Sobol index.
    S2,
}

impl Index {
    const ALL: [Index; 8] = [
        Index::Variance,
        Index::NoiseShare,
        Index::Mu,
        Index::MuStar,
        Index::Sigma,
        Index::S1,
        Index::ST,
        Index::S2,
    ];

    /// Name in the file.
    pub fn name(self) -> &'static str {
        match self {
            Index::Variance => "variance",
            Index::NoiseShare => "noise_share",
            Index::Mu => "mu",
            Index::MuStar => "mu_star",
            Index::Sigma => "sigma",
            Index::S1 => "S1",
            Index::ST => "ST",
            Index::S2 => "S2",
        }
    }
}

/// One row of `sensitivity.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    /// The output.
    pub output: OutputName,
    /// `morris` or `sobol`.
    pub method: String,
    /// Parameter path (empty for an output's own rows).
    pub parameter: String,
    /// Second parameter of an `S2` row.
    pub with: String,
    /// What the row holds.
    pub index: Index,
    /// The value.
    pub value: f64,
    /// Bootstrap interval.
    pub ci: Option<(f64, f64)>,
    /// Rank of the parameter (1 = most influential).
    pub rank: Option<usize>,
}

/// The rows of one output's analysis.
pub fn rows(a: &OutputAnalysis, method: &str, parameters: &[String]) -> Vec<TableRow> {
    let row = |parameter: &str, with: &str, index, value, ci, rank| TableRow {
        output: a.output.clone(),
        method: method.to_string(),
        parameter: parameter.to_string(),
        with: with.to_string(),
        index,
        value,
        ci,
        rank,
    };
    let mut out = vec![row("", "", Index::Variance, a.variance, None, None)];
    if let Some(n) = a.noise_share {
        out.push(row("", "", Index::NoiseShare, n, None, None));
    }
    let mut rank = vec![0; parameters.len()];
    for (r, &j) in a.ranking().iter().enumerate() {
        rank[j] = r + 1;
    }
    match &a.indices {
        Indices::Morris(m) => {
            for (j, x) in m.iter().enumerate() {
                let (p, r) = (&parameters[j], Some(rank[j]));
                out.push(row(p, "", Index::Mu, x.mu, None, r));
                out.push(row(p, "", Index::MuStar, x.mu_star, x.mu_star_ci, r));
                out.push(row(p, "", Index::Sigma, x.sigma, None, r));
            }
        }
        Indices::Sobol(s) => {
            for j in 0..parameters.len() {
                let (p, r) = (&parameters[j], Some(rank[j]));
                out.push(row(p, "", Index::S1, s.first[j].value, s.first[j].ci, r));
                out.push(row(p, "", Index::ST, s.total[j].value, s.total[j].ci, r));
            }
            for &(j, k, e) in &s.second {
                out.push(row(
                    &parameters[j],
                    &parameters[k],
                    Index::S2,
                    e.value,
                    e.ci,
                    None,
                ));
            }
        }
    }
    out
}

fn number(v: f64) -> String {
    let mut s = String::new();
    if v.is_finite() {
        fmt_value(&mut s, v);
    }
    s
}

/// Renders `sensitivity.csv`.
pub fn to_csv(rows: &[TableRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(96 * rows.len() + 96));
    w.write_record([
        "output",
        "year",
        "method",
        "parameter",
        "with",
        "index",
        "value",
        "ci_low",
        "ci_high",
        "rank",
    ])
    .expect("writes to memory");
    for r in rows {
        let (lo, hi) = r.ci.map_or((String::new(), String::new()), |(a, b)| {
            (number(a), number(b))
        });
        w.write_record([
            r.output.name.as_str(),
            &r.output.year.map_or(String::new(), |y| y.to_string()),
            &r.method,
            &r.parameter,
            &r.with,
            r.index.name(),
            &number(r.value),
            &lo,
            &hi,
            &r.rank.map_or(String::new(), |k| k.to_string()),
        ])
        .expect("writes to memory");
    }
    w.into_inner().expect("writes to memory")
}

/// Reads `sensitivity.csv` as [`to_csv`] writes it.
pub fn read(path: &Path) -> Result<Vec<TableRow>, FileError> {
    let name = path.display().to_string();
    let format = |line: u64, message: String| FileError::Format {
        path: name.clone(),
        line,
        message,
    };
    let text = std::fs::read(path).map_err(|source| FileError::Io {
        path: name.clone(),
        source,
    })?;
    let mut r = csv::Reader::from_reader(text.as_slice());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| format(1, e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    let expected = "output,year,method,parameter,with,index,value,ci_low,ci_high,rank";
    if header.join(",") != expected {
        return Err(format(1, format!("expected the header `{expected}`")));
    }
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| format(line, e.to_string()))?;
        let num = |k: usize| -> Result<Option<f64>, FileError> {
            match &rec[k] {
                "" => Ok(None),
                s => s
                    .parse()
                    .map(Some)
                    .map_err(|_| format(line, format!("expected a number, found \"{s}\""))),
            }
        };
        let index = Index::ALL
            .into_iter()
            .find(|x| x.name() == &rec[5])
            .ok_or_else(|| format(line, format!("unknown index \"{}\"", &rec[5])))?;
        out.push(TableRow {
            output: OutputName {
                name: rec[0].to_string(),
                year: num(1)?.map(|y| y as i32),
            },
            method: rec[2].to_string(),
            parameter: rec[3].to_string(),
            with: rec[4].to_string(),
            index,
            value: num(6)?.unwrap_or(f64::NAN),
            ci: num(7)?.zip(num(8)?),
            rank: num(9)?.map(|k| k as usize),
        });
    }
    Ok(out)
}
