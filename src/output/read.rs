//! A run directory read back: `summary.csv`, `series.csv` and the seed and scenario name of
//! `manifest.toml`, for commands that work from a finished run's files (`compare`, `plot`)
//! rather than from simulation memory. Names are interned in a [`Layout`] in order of first
//! appearance.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::SummaryRow;
use crate::observe::{Layout, Row, Sex};

/// A problem reading a run directory's file.
pub type ReadError = crate::input::FileError;

/// What `manifest.toml` says that figures and tables name.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct RunInfo {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Replicates.
    pub replicates: u32,
    /// Observed sources the scenario names.
    #[serde(default)]
    pub observed: Vec<String>,
    /// The posterior draws of a run with `--posterior` (or a posterior-predictive run).
    #[serde(default)]
    pub posterior: Option<super::PosteriorDraws>,
}

/// Reads the scenario name, seed, replicates and posterior draws of `manifest.toml` (other keys
/// are ignored).
pub fn read_manifest(path: &Path) -> Result<RunInfo, ReadError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: name.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ReadError::Format {
        path: name,
        line: 1,
        message: e.message().to_string(),
    })
}

/// Interns series and place names.
struct Interner {
    layout: Layout,
    series: HashMap<String, u16>,
    places: HashMap<String, u16>,
}

impl Interner {
    fn new() -> Interner {
        Interner {
            layout: Layout {
                series: Vec::new(),
                places: Vec::new(),
            },
            series: HashMap::new(),
            places: HashMap::new(),
        }
    }

    fn id(names: &mut Vec<String>, ids: &mut HashMap<String, u16>, s: &str) -> Result<u16, String> {
        if let Some(&i) = ids.get(s) {
            return Ok(i);
        }
        let i = u16::try_from(names.len()).map_err(|_| "too many distinct names".to_string())?;
        names.push(s.to_string());
        ids.insert(s.to_string(), i);
        Ok(i)
    }

    fn row(&mut self, year: &str, series: &str, place: &str, sex: &str) -> Result<Row, String> {
        Ok(Row {
            year: year
                .parse()
                .map_err(|_| format!("year: expected a year, found \"{year}\""))?,
            series: Self::id(&mut self.layout.series, &mut self.series, series)?,
            place: Self::id(&mut self.layout.places, &mut self.places, place)?,
            sex: match sex {
                "female" => Sex::Female,
                "male" => Sex::Male,
                "total" => Sex::Total,
                _ => {
                    return Err(format!(
                        "sex: expected female, male or total, found \"{sex}\""
                    ));
                }
            },
            value: 0.0,
        })
    }
}

fn number(s: &str, column: &str) -> Result<f64, String> {
    s.parse()
        .map_err(|_| format!("{column}: expected a number, found \"{s}\""))
}

/// Calls `f` with each record of the CSV at `path` after checking its header is `header`.
fn each_record(
    path: &Path,
    header: &[&str],
    mut f: impl FnMut(&csv::StringRecord) -> Result<(), String>,
) -> Result<(), ReadError> {
    let name = path.display().to_string();
    let mut reader = csv::Reader::from_path(path).map_err(|e| ReadError::Io {
        path: name.clone(),
        source: match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            other => std::io::Error::other(format!("{other:?}")),
        },
    })?;
    let format = |line, message| ReadError::Format {
        path: name.clone(),
        line,
        message,
    };
    let found = reader.headers().map_err(|e| format(1, e.to_string()))?;
    if found.iter().ne(header.iter().copied()) {
        return Err(format(
            1,
            format!(
                "expected the header `{}`, found `{}`",
                header.join(","),
                found.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        line += 1;
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => f(&record).map_err(|m| format(line, m))?,
            Err(e) => return Err(format(line, e.to_string())),
        }
    }
}

/// Reads `summary.csv` (empty statistics, such as `sd` of one replicate, read as NaN).
pub fn read_summary(path: &Path) -> Result<(Layout, Vec<SummaryRow>), ReadError> {
    let mut names = Interner::new();
    let mut rows = Vec::new();
    let header = [
        "year", "series", "place", "sex", "mean", "sd", "p05", "p50", "p95",
    ];
    each_record(path, &header, |r| {
        let key = names.row(&r[0], &r[1], &r[2], &r[3])?;
        let stat = |i: usize| {
            if r[i].is_empty() {
                Ok(f64::NAN)
            } else {
                number(&r[i], header[i])
            }
        };
        rows.push(SummaryRow {
            key,
            mean: stat(4)?,
            sd: stat(5)?,
            p05: stat(6)?,
            p50: stat(7)?,
            p95: stat(8)?,
        });
        Ok(())
    })?;
    Ok((names.layout, rows))
}

/// Reads `series.csv` as `(replicate, row)` pairs in file order.
pub fn read_series(path: &Path) -> Result<(Layout, Vec<(u32, Row)>), ReadError> {
    let mut names = Interner::new();
    let mut rows = Vec::new();
    let header = ["replicate", "year", "series", "place", "sex", "value"];
    each_record(path, &header, |r| {
        let rep = r[0]
            .parse()
            .map_err(|_| format!("replicate: expected an index, found \"{}\"", &r[0]))?;
        let mut row = names.row(&r[1], &r[2], &r[3], &r[4])?;
        row.value = number(&r[5], "value")?;
        rows.push((rep, row));
        Ok(())
    })?;
    Ok((names.layout, rows))
}

/// Reads a finished run's `<stem>.csv`, or its `<stem>.parquet` where there is no CSV.
fn run_table<T>(
    dir: &Path,
    stem: &str,
    csv: impl FnOnce(&Path) -> Result<T, ReadError>,
    parquet: impl FnOnce(&super::parquet::Table) -> Result<T, super::parquet::TableError>,
) -> Result<T, ReadError> {
    let path = dir.join(format!("{stem}.csv"));
    if path.exists() {
        return csv(&path);
    }
    let path = dir.join(format!("{stem}.parquet"));
    if !path.exists() {
        return csv(&dir.join(format!("{stem}.csv")));
    }
    let table = super::parquet::read_file(&path)?;
    parquet(&table).map_err(|e| ReadError::Content {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// A run directory's series, from `series.csv` or `series.parquet`.
pub fn read_run_series(dir: &Path) -> Result<(Layout, Vec<(u32, Row)>), ReadError> {
    run_table(dir, "series", read_series, super::parquet::series_rows)
}

/// A run directory's summary, from `summary.csv` or `summary.parquet`.
pub fn read_run_summary(dir: &Path) -> Result<(Layout, Vec<SummaryRow>), ReadError> {
    run_table(dir, "summary", read_summary, super::parquet::summary_rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{series_csv, summarise, summary_csv};

    fn rows() -> (Layout, Vec<Vec<Row>>) {
        let layout = Layout {
            series: vec!["a".into(), "b".into()],
            places: vec!["P".into(), "ALL".into()],
        };
        let reps = (0..3)
            .map(|r| {
                vec![
                    Row {
                        year: 2000,
                        series: 0,
                        place: 0,
                        sex: Sex::Female,
                        value: f64::from(r) * 1.5,
                    },
                    Row {
                        year: 2000,
                        series: 1,
                        place: 1,
                        sex: Sex::Total,
                        value: 0.25 + f64::from(r),
                    },
                ]
            })
            .collect();
        (layout, reps)
    }

    #[test]
    fn summary_and_series_read_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let (layout, reps) = rows();
        let slices: Vec<&[Row]> = reps.iter().map(Vec::as_slice).collect();
        let summary = summarise(&slices);
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, summary_csv(&layout, &summary)).unwrap();
        let (l, back) = read_summary(&path).unwrap();
        assert_eq!(l.series, layout.series);
        assert_eq!(l.places, layout.places);
        assert_eq!(back.len(), 2);
        for (a, b) in back.iter().zip(&summary) {
            assert_eq!(a.key.sex, b.key.sex);
            for (x, y) in [
                (a.mean, b.mean),
                (a.p05, b.p05),
                (a.p50, b.p50),
                (a.p95, b.p95),
            ] {
                assert!((x - y).abs() < 1e-6, "{x} vs {y}");
            }
        }

        let indexed: Vec<(u32, &[Row])> = slices
            .iter()
            .enumerate()
            .map(|(i, r)| (i as u32, *r))
            .collect();
        let path = dir.path().join("series.csv");
        std::fs::write(&path, series_csv(&layout, &indexed)).unwrap();
        let (_, back) = read_series(&path).unwrap();
        assert_eq!(back.len(), 6);
        assert_eq!(back[5].0, 2);
        assert_eq!(back[5].1.value, 2.25);
    }

    #[test]
    fn a_wrong_header_names_the_file_and_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, "year,series,place,sex,value\n").unwrap();
        let e = read_summary(&path).unwrap_err().to_string();
        assert!(
            e.contains("summary.csv:1: expected the header `year,series,place,sex,mean"),
            "{e}"
        );
        let e = read_summary(&dir.path().join("none.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.csv: cannot read"), "{e}");
    }
}
