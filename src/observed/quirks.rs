//! Source quirks, declared: published values to be read as *not reported*. Some hosts print 0
//! for years in which they reported nothing; read as true zeros, they would pull a fit towards
//! nothing. A small TOML file next to the data lists such units and years, each with its
//! reason, and the loader drops those values (as if the row were absent) before anything is
//! compared or calibrated.
//!
//! ```toml
//! [[quirk]]
//! series = "unhcr_refugees"       # the series name the loader gives (as in simulated outputs)
//! place = "DEU"
//! sex = "total"                   # default
//! years = [2000, 2001]            # first and last year, inclusive
//! reason = "why these values are not reports"
//! ```
//!
//! The file of a source: a folder's `quirks.toml`; a CSV file `NAME.csv`'s `NAME.quirks.toml`
//! beside it. Unknown keys, a reversed range or an empty reason are refused with
//! `file:line:col: key.path: expected …, found …`.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Observed, ObservedError, SeriesKey};
use crate::scenario::{ScenarioError, read_toml_file};

/// `[[quirk]]` as written.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawQuirk {
    series: String,
    place: String,
    #[serde(default = "total")]
    sex: String,
    years: [i32; 2],
    reason: String,
}

fn total() -> String {
    "total".into()
}

/// The file as written.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawQuirks {
    #[serde(default)]
    quirk: Vec<RawQuirk>,
}

/// Values of one unit, over a range of years, read as not reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quirk {
    /// Series, place and sex.
    pub key: SeriesKey,
    /// Years (inclusive).
    pub years: RangeInclusive<i32>,
    /// Why.
    pub reason: String,
}

/// The quirks of one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quirks {
    /// The file they were read from.
    pub file: PathBuf,
    /// The declarations.
    pub quirks: Vec<Quirk>,
}

/// How many values one quirks file dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The quirks file.
    pub file: PathBuf,
    /// Published values read as not reported.
    pub values: usize,
}

/// Where the quirks of `source` are declared: `DIR/quirks.toml` for a folder,
/// `DIR/NAME.quirks.toml` for a file `DIR/NAME.csv`.
pub fn quirks_path(source: &Path) -> PathBuf {
    if source.is_dir() {
        source.join("quirks.toml")
    } else {
        let stem = source
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        source.with_file_name(format!("{stem}.quirks.toml"))
    }
}

impl Quirks {
    /// Reads and checks a quirks file.
    pub fn read(path: &Path) -> Result<Quirks, ScenarioError> {
        let (raw, sources): (RawQuirks, _) = read_toml_file(path, "quirks file")?;
        let mut quirks = Vec::new();
        for (i, q) in raw.quirk.into_iter().enumerate() {
            let at = |k: &str| format!("quirk.{i}.{k}");
            if !matches!(q.sex.as_str(), "female" | "male" | "total") {
                return Err(sources.error(
                    &at("sex"),
                    format!("expected female, male or total, found \"{}\"", q.sex),
                ));
            }
            let [first, last] = q.years;
            if first > last {
                return Err(sources.error(
                    &at("years"),
                    format!("expected [first, last] with first <= last, found [{first}, {last}]"),
                ));
            }
            if q.reason.trim().is_empty() {
                return Err(sources.error(
                    &at("reason"),
                    "expected the reason these values are not reports, found an empty string",
                ));
            }
            for (k, v) in [("series", &q.series), ("place", &q.place)] {
                if v.trim().is_empty() {
                    return Err(sources.error(&at(k), "expected a name, found an empty string"));
                }
            }
            quirks.push(Quirk {
                key: SeriesKey {
                    series: q.series,
                    place: q.place,
                    sex: q.sex,
                },
                years: first..=last,
                reason: q.reason,
            });
        }
        Ok(Quirks {
            file: path.to_path_buf(),
            quirks,
        })
    }

    /// Removes every declared value present in `obs` and records how many.
    pub fn apply(&self, obs: &mut Observed) {
        let mut values = 0;
        for q in &self.quirks {
            if let Some(series) = obs.series.get_mut(&q.key) {
                let before = series.len();
                series.retain(|y, _| !q.years.contains(y));
                values += before - series.len();
                if series.is_empty() {
                    obs.series.remove(&q.key);
                }
            }
        }
        obs.dropped.push(Dropped {
            file: self.file.clone(),
            values,
        });
    }
}

/// Applies the quirks declared for `source`, if it declares any; the quirks file joins the
/// files read (a sweep copies them, quirks included).
pub fn apply_declared(source: &Path, obs: &mut Observed) -> Result<(), ObservedError> {
    let path = quirks_path(source);
    if path.exists() {
        Quirks::read(&path)?.apply(obs);
        obs.files.push(path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(series: &str, place: &str) -> SeriesKey {
        SeriesKey {
            series: series.into(),
            place: place.into(),
            sex: "total".into(),
        }
    }

    #[test]
    fn only_the_declared_years_of_the_declared_unit_are_dropped() {
        let mut obs = Observed::default();
        for y in 2000..=2004 {
            obs.add(key("a", "X"), y, 0.0, false);
            obs.add(key("a", "Y"), y, 0.0, false);
        }
        obs.add(key("b", "X"), 2001, 0.0, false);
        let quirks = Quirks {
            file: "q.toml".into(),
            quirks: vec![
                Quirk {
                    key: key("a", "X"),
                    years: 2001..=2002,
                    reason: "r".into(),
                },
                Quirk {
                    key: key("b", "X"),
                    years: 1990..=2010,
                    reason: "r".into(),
                },
                Quirk {
                    key: key("c", "X"),
                    years: 2000..=2000,
                    reason: "not in the data".into(),
                },
            ],
        };
        quirks.apply(&mut obs);
        let years = |k: &SeriesKey| obs.series[k].keys().copied().collect::<Vec<_>>();
        assert_eq!(years(&key("a", "X")), [2000, 2003, 2004]);
        assert_eq!(years(&key("a", "Y")), [2000, 2001, 2002, 2003, 2004]);
        assert!(!obs.series.contains_key(&key("b", "X")));
        assert_eq!(
            obs.dropped,
            [Dropped {
                file: "q.toml".into(),
                values: 3
            }]
        );
    }

    #[test]
    fn quirks_of_a_folder_and_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(quirks_path(dir.path()), dir.path().join("quirks.toml"));
        assert_eq!(
            quirks_path(&dir.path().join("population.csv")),
            dir.path().join("population.quirks.toml")
        );
    }
}
