//! Observed series: the project's copies of published data, read into the same naming as the
//! simulated series (`series`, `place`, `sex`, `year`).
//!
//! A missing row is "not reported", never zero: it is simply absent here. A published 5 that
//! UNHCR uses for any count from 1 to 5 is kept as 5 and flagged (`masked_cells`), so a metric
//! can treat it as the interval 1–5. Each series is known as a stock (at year end) or a flow
//! (during the year), so a comparison never pairs one with the other.
//!
//! Three layouts are read: the project's own files in a folder (`data/observed/`, module
//! `project`), UNHCR's published tables as downloaded (module `unhcr`), and the tidy layout of a
//! run's `series.csv` (module `tidy`). Several sources may be given; a
//! later source's series replaces an earlier one's.
//!
//! Two additions to the series: published estimates of a hidden population, read as intervals
//! (module `estimates`), and declared source quirks — published values to be read as not
//! reported — that the loader drops from each source that declares them (module `quirks`).

mod estimates;
mod project;
pub mod quirks;
mod table;
mod tidy;
mod unhcr;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use estimates::Estimate;
pub use project::load_project_dir;
pub use quirks::{Dropped, Quirks};
pub use tidy::{is_tidy, load_tidy_file};
pub use unhcr::{UnhcrTable, load_unhcr_file};

/// Whether a series counts people at a moment or events over a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// People present on 31 December.
    Stock,
    /// Events during the calendar year.
    Flow,
}

impl Measure {
    /// `stock` or `flow`.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Stock => "stock",
            Measure::Flow => "flow",
        }
    }
}

/// One observed value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Published value (a sum where several published cells make one series value).
    pub value: f64,
    /// How many of the summed cells were published as a masked 5 ("1 to 5").
    pub masked_cells: u32,
}

impl Point {
    /// Smallest value consistent with the masking (each masked 5 could be 1).
    pub fn lower(&self) -> f64 {
        self.value - 4.0 * f64::from(self.masked_cells)
    }
}

/// Key of an observed series.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// Series name, as in simulated outputs (e.g. `mou_arrivals`).
    pub series: String,
    /// Place (ISO3 code).
    pub place: String,
    /// `female`, `male` or `total`.
    pub sex: String,
}

/// Observed series by key, each a map from year to value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// The data.
    pub series: BTreeMap<SeriesKey, BTreeMap<i32, Point>>,
    /// Stock or flow, by series name (for the series the sources define).
    pub measures: BTreeMap<String, Measure>,
    /// Files read.
    pub files: Vec<PathBuf>,
    /// Published estimates read as intervals (compared, never fitted), by year.
    pub estimates: Vec<Estimate>,
    /// Values each declared quirks file dropped (read as not reported).
    pub dropped: Vec<Dropped>,
}

impl Observed {
    /// Adds `value` to the point at `(key, year)` (summing published cells).
    pub fn add(&mut self, key: SeriesKey, year: i32, value: f64, masked: bool) {
        let p = self
            .series
            .entry(key)
            .or_default()
            .entry(year)
            .or_insert(Point {
                value: 0.0,
                masked_cells: 0,
            });
        p.value += value;
        p.masked_cells += u32::from(masked);
    }

    /// The series `(series, place, sex)`, if observed.
    pub fn get(&self, series: &str, place: &str, sex: &str) -> Option<&BTreeMap<i32, Point>> {
        self.series.get(&SeriesKey {
            series: series.into(),
            place: place.into(),
            sex: sex.into(),
        })
    }

    /// Merges another set of observations; on a clash (same series, place and sex) the other
    /// set's series replaces this one's whole.
    pub fn extend(&mut self, other: Observed) {
        for (k, v) in other.series {
            self.series.insert(k, v);
        }
        self.measures.extend(other.measures);
        self.files.extend(other.files);
        self.estimates.extend(other.estimates);
        self.dropped.extend(other.dropped);
    }
}

/// A problem reading observed data.
pub type ObservedError = crate::input::FileError;

/// Reads observed data from `path`: a folder in the project's layout (`data/observed/`), every
/// origin, without the values its `quirks.toml` declares not reported.
pub fn load(path: &Path) -> Result<Observed, ObservedError> {
    let mut obs = load_project_dir(path, None)?;
    quirks::apply_declared(path, &mut obs)?;
    Ok(obs)
}

/// Reads one source of rows of origin `origin` (ISO3): a folder in the project's layout, a CSV
/// file in the tidy layout of `series.csv`, or a CSV file in UNHCR's layout; then drops the
/// values its quirks file declares not reported ([`quirks::quirks_path`]).
pub fn load_source(path: &Path, origin: &str) -> Result<Observed, ObservedError> {
    let mut obs = if path.is_dir() {
        load_project_dir(path, Some(origin))
    } else if is_tidy(path) {
        load_tidy_file(path)
    } else {
        load_unhcr_file(path, origin)
    }?;
    quirks::apply_declared(path, &mut obs)?;
    Ok(obs)
}

/// Reads several sources in order; a later source's series replaces an earlier one's.
pub fn load_sources(paths: &[PathBuf], origin: &str) -> Result<Observed, ObservedError> {
    let mut obs = Observed::default();
    for p in paths {
        obs.extend(load_source(p, origin)?);
    }
    Ok(obs)
}
