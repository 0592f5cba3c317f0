//! A merged `results.csv` read back for analyses: every run's value of every scalar output —
//! the fit `distance` and each `kept` value (an entry kept per year is one output per year) —
//! in plan row order. Other measures (per-unit fits, simulated series) are skipped.

use std::collections::BTreeMap;

use super::SweepError;
use super::folder::{SweepDir, results_header};
use super::merge::{RESULTS_RECORD, ResultsRecord};
use super::plan::short;

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

/// Checks `results.csv` (its `bytes`) against the merge's `results.toml`: written by a merge
/// of this plan that finished, and unchanged since.
fn check_record(sweep: &SweepDir, bytes: &[u8]) -> Result<(), SweepError> {
    let path = sweep.dir.join(RESULTS_RECORD);
    let again = format!("merge again (diaspora sweep merge {})", sweep.dir.display());
    let refuse = |message: String| SweepError::Dir {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        refuse(if e.kind() == std::io::ErrorKind::NotFound {
            format!("missing: results.csv is not from a merge that finished; {again}")
        } else {
            format!("cannot read: {e}")
        })
    })?;
    let record: ResultsRecord = toml::from_str(&text)
        .map_err(|e| refuse(format!("not a merge record: {}; {again}", e.message())))?;
    if record.plan_hash != sweep.manifest.plan_hash {
        return Err(refuse(format!(
            "results.csv was merged from another plan ({}, not {}); {again}",
            short(&record.plan_hash),
            short(&sweep.manifest.plan_hash)
        )));
    }
    let now = blake3::hash(bytes).to_hex().to_string();
    if now != record.results_hash {
        return Err(SweepError::Dir {
            path: sweep.results_path().display().to_string(),
            message: format!(
                "changed since it was merged (BLAKE3 {} in {RESULTS_RECORD}, {} now); {again}",
                short(&record.results_hash),
                short(&now)
            ),
        });
    }
    Ok(())
}

/// Reads `DIR/results.csv` of a merged sweep, refusing it unless `results.toml` vouches for it.
pub fn read(sweep: &SweepDir) -> Result<RunValues, SweepError> {
    let path = sweep.results_path();
    let name = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|e| SweepError::Dir {
        path: name.clone(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "no results yet: run the sweep and merge it (diaspora sweep merge {})",
                sweep.dir.display()
            )
        } else {
            format!("cannot read: {e}")
        },
    })?;
    check_record(sweep, &bytes)?;
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
    let order: BTreeMap<&str, usize> = sweep
        .manifest
        .keep
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut found: BTreeMap<(usize, Option<i32>), Vec<Option<f64>>> = BTreeMap::new();
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
            "kept" => match order.get(&rec[series]) {
                Some(&i) => i + 1,
                None => {
                    return Err(bad(
                        line,
                        format!("`{}` is not a keep entry of the manifest", &rec[series]),
                    ));
                }
            },
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
