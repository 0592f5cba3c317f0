//! A merged sweep's results read back for analyses and figures, whatever the format the merge
//! wrote (`results.csv` or the Parquet tables), and only if `results.toml` vouches for them:
//!
//! * [`read`] — every run's value of every scalar output: the fit `distance` and each `kept`
//!   value (an entry kept per year is one output per year), in plan row order;
//! * [`runs`] — one record per run: its point, replicate, seed, parameter values (from the
//!   plan), distance and, after a Parquet merge, its run time.
//!
//! Other measures (per-unit fits, simulated series) are not read here.

use std::collections::BTreeMap;

use super::SweepError;
use super::design::Format;
use super::folder::SweepDir;
use super::merge::{RESULTS_CSV, RESULTS_RECORD, ResultsRecord, parquet_file};
use super::plan::short;
use super::tables::results_header;
use crate::output::folder::{self, FolderError};
use crate::output::parquet::{self, Table, Values};

/// One output of a sweep: the distance, or a `keep` entry (and the year, for entries kept per
/// year).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutputName {
    /// `distance`, or the `keep` entry's text.
    pub name: String,
    /// The year of an entry kept per year.
    pub year: Option<i32>,
}

impl std::fmt::Display for OutputName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.year {
            Some(y) => write!(f, "{} [{y}]", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The name of the fit distance as an output.
pub const DISTANCE: &str = "distance";

/// Every run's value of every scalar output.
#[derive(Clone, Debug, PartialEq)]
pub struct RunValues {
    /// Outputs: `distance` first, then the `keep` entries in the design's order (years in
    /// order within an entry).
    pub outputs: Vec<OutputName>,
    /// `values[o][row]`: output `o` of plan row `row` (`None` where undefined or absent).
    pub values: Vec<Vec<Option<f64>>>,
}

/// One run of a merged sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Plan row.
    pub row: usize,
    /// Point.
    pub point: usize,
    /// Replicate within the point.
    pub replicate: u32,
    /// Seed.
    pub seed: u64,
    /// Parameter values in the plan's column order (a switch is 1 for `true`, 0 for `false`).
    pub values: Vec<f64>,
    /// Fit distance (`None` where undefined).
    pub distance: Option<f64>,
    /// Seconds spent simulating and fitting (`None` after a CSV merge, which does not keep
    /// them).
    pub seconds: Option<f64>,
}

/// Every run of a merged sweep, in row order.
#[derive(Clone, Debug, PartialEq)]
pub struct Runs {
    /// Parameter paths, in column order.
    pub parameters: Vec<String>,
    /// The runs.
    pub runs: Vec<Run>,
}

/// Reads `results.toml` and checks that it is the record of a merge of this plan and that
/// every results file it lists is unchanged.
pub fn record(sweep: &SweepDir) -> Result<ResultsRecord, SweepError> {
    let path = sweep.dir.join(RESULTS_RECORD);
    let again = format!("merge again (diaspora sweep merge {})", sweep.dir.display());
    let refuse = |message: String| SweepError::Dir {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        refuse(if e.kind() == std::io::ErrorKind::NotFound {
            format!("missing: no results from a merge that finished; run the sweep and {again}")
        } else {
            format!("cannot read: {e}")
        })
    })?;
    let record: ResultsRecord = toml::from_str(&text)
        .map_err(|e| refuse(format!("not a merge record: {}; {again}", e.message())))?;
    if record.plan_hash != sweep.manifest.plan_hash {
        return Err(refuse(format!(
            "the results were merged from another plan ({}, not {}); {again}",
            short(&record.plan_hash),
            short(&sweep.manifest.plan_hash)
        )));
    }
    let how = folder::Listed {
        record: RESULTS_RECORD,
        made: "merged",
        again: &again,
    };
    folder::check_listed(&sweep.dir, &record.files, &how).map_err(|e| match e {
        FolderError::Mismatch { path, message } => SweepError::Dir { path, message },
        other => SweepError::Dir {
            path: sweep.dir.display().to_string(),
            message: other.to_string(),
        },
    })?;
    Ok(record)
}

/// Reads every run's scalar outputs of a merged sweep.
pub fn read(sweep: &SweepDir) -> Result<RunValues, SweepError> {
    let found = match record(sweep)?.format {
        Format::Csv => read_csv(sweep)?,
        Format::Parquet => read_parquet(sweep)?,
    };
    let mut outputs = Vec::with_capacity(found.len());
    let mut values = Vec::with_capacity(found.len());
    for ((entry, year), v) in found {
        let name = match entry {
            0 => DISTANCE.to_string(),
            i => sweep.manifest.keep[i - 1].clone(),
        };
        outputs.push(OutputName { name, year });
        values.push(v);
    }
    Ok(RunValues { outputs, values })
}

/// Reads every run of a merged sweep: the plan's columns, the distance and the run time.
pub fn runs(sweep: &SweepDir) -> Result<Runs, SweepError> {
    let n = sweep.manifest.runs;
    let (distance, seconds) = match record(sweep)?.format {
        Format::Csv => {
            let mut found = read_csv(sweep)?;
            let d = found.remove(&(0, None)).unwrap_or_else(|| vec![None; n]);
            (d, vec![None; n])
        }
        Format::Parquet => {
            let t = table(sweep, "runs")?;
            let rows = rows_of(sweep, &t, "runs")?;
            let (mut d, mut s) = (vec![None; n], vec![None; n]);
            let (Some(Values::OptFloat64(dv)), Some(Values::Float64(sv))) =
                (t.column("distance"), t.column("seconds"))
            else {
                return Err(bad_table(sweep, "runs", "no distance and seconds columns"));
            };
            for ((&r, &dist), &secs) in rows.iter().zip(dv).zip(sv) {
                d[r] = dist;
                s[r] = Some(secs);
            }
            (d, s)
        }
    };
    let runs = sweep
        .plan
        .rows
        .iter()
        .map(|r| Run {
            row: r.row,
            point: r.point,
            replicate: r.replicate,
            seed: r.seed,
            values: r
                .cells
                .iter()
                .map(|c| match c.as_str() {
                    "true" => 1.0,
                    "false" => 0.0,
                    // Planning checked every other cell: a number.
                    c => c.parse().unwrap_or(f64::NAN),
                })
                .collect(),
            distance: distance[r.row],
            seconds: seconds[r.row],
        })
        .collect();
    Ok(Runs {
        parameters: sweep.plan.parameters.clone(),
        runs,
    })
}

/// Outputs by (0 for the distance or 1 + the `keep` entry, year): a value per plan row.
type Found = BTreeMap<(usize, Option<i32>), Vec<Option<f64>>>;

/// The index of `keep` entry `text`, plus one (0 is the distance).
fn entry(sweep: &SweepDir, text: &str) -> Option<usize> {
    sweep
        .manifest
        .keep
        .iter()
        .position(|k| k == text)
        .map(|i| i + 1)
}

/// Reads `results.csv` (whose hash the record checked).
fn read_csv(sweep: &SweepDir) -> Result<Found, SweepError> {
    let path = sweep.dir.join(RESULTS_CSV);
    let name = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|e| SweepError::io(&path, e))?;
    let bad = |line: u64, message: String| SweepError::Dir {
        path: format!("{name}:{line}"),
        message,
    };
    let header = results_header(&sweep.manifest.parameters);
    let Some(body) = bytes.strip_prefix(header.as_slice()) else {
        return Err(bad(1, "columns differ from the plan's".into()));
    };
    let p = sweep.manifest.parameters.len();
    let (measure, series, year, value) = (4 + p, 5 + p, 8 + p, 9 + p);
    let runs = sweep.manifest.runs;
    let mut found = Found::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body);
    let mut rec = csv::StringRecord::new();
    let mut line = 1;
    loop {
        line += 1;
        match reader.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(bad(line, e.to_string())),
        }
        let entry = match &rec[measure] {
            "distance" => 0,
            "kept" => entry(sweep, &rec[series]).ok_or_else(|| {
                bad(
                    line,
                    format!("`{}` is not a keep entry of the manifest", &rec[series]),
                )
            })?,
            _ => continue,
        };
        let row: usize = rec[0].parse().ok().filter(|&r| r < runs).ok_or_else(|| {
            bad(
                line,
                format!("expected a row below {runs}, found \"{}\"", &rec[0]),
            )
        })?;
        let year = match &rec[year] {
            "" => None,
            y => Some(
                y.parse()
                    .map_err(|_| bad(line, format!("expected a year, found \"{y}\"")))?,
            ),
        };
        let v = match &rec[value] {
            "" => None,
            v => Some(
                v.parse::<f64>()
                    .map_err(|_| bad(line, format!("expected a number, found \"{v}\"")))?,
            ),
        };
        found
            .entry((entry, year))
            .or_insert_with(|| vec![None; runs])[row] = v;
    }
    Ok(found)
}

fn bad_table(sweep: &SweepDir, name: &str, message: &str) -> SweepError {
    SweepError::Dir {
        path: sweep.dir.join(parquet_file(name)).display().to_string(),
        message: message.to_string(),
    }
}

/// Reads results table `name` (whose hash the record checked).
fn table(sweep: &SweepDir, name: &str) -> Result<Table, SweepError> {
    let path = sweep.dir.join(parquet_file(name));
    parquet::read_file(&path).map_err(|e| SweepError::Dir {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The `row` column of table `name`, each a row of the plan.
fn rows_of(sweep: &SweepDir, t: &Table, name: &str) -> Result<Vec<usize>, SweepError> {
    let Some(Values::Int64(rows)) = t.column("row") else {
        return Err(bad_table(sweep, name, "no INT64 column `row`"));
    };
    rows.iter()
        .map(|&r| {
            usize::try_from(r)
                .ok()
                .filter(|&r| r < sweep.manifest.runs)
                .ok_or_else(|| bad_table(sweep, name, &format!("row {r} is not a plan row")))
        })
        .collect()
}

/// Reads `results/runs.parquet` and, with `keep` entries, `results/kept.parquet`.
fn read_parquet(sweep: &SweepDir) -> Result<Found, SweepError> {
    let n = sweep.manifest.runs;
    let mut found = Found::new();
    let runs = table(sweep, "runs")?;
    let Some(Values::OptFloat64(distance)) = runs.column("distance") else {
        return Err(bad_table(sweep, "runs", "no column `distance`"));
    };
    let d = found.entry((0, None)).or_insert_with(|| vec![None; n]);
    for (r, &v) in rows_of(sweep, &runs, "runs")?.into_iter().zip(distance) {
        d[r] = v;
    }
    if sweep.manifest.keep.is_empty() {
        return Ok(found);
    }
    let kept = table(sweep, "kept")?;
    let (Some(Values::Text(output)), Some(Values::OptInt32(year)), Some(Values::OptFloat64(v))) = (
        kept.column("output"),
        kept.column("year"),
        kept.column("value"),
    ) else {
        return Err(bad_table(
            sweep,
            "kept",
            "no columns `output`, `year`, `value`",
        ));
    };
    for (i, r) in rows_of(sweep, &kept, "kept")?.into_iter().enumerate() {
        let e = entry(sweep, &output[i]).ok_or_else(|| {
            bad_table(
                sweep,
                "kept",
                &format!("`{}` is not a keep entry of the manifest", output[i]),
            )
        })?;
        found.entry((e, year[i])).or_insert_with(|| vec![None; n])[r] = v[i];
    }
    Ok(found)
}
