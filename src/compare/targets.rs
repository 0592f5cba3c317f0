//! Which units a calibration targeted, so that `fit.csv` can say of every row whether the
//! calibration behind the run used its data (`targeted`): `true` or `false` when a calibration
//! is known, empty when nothing says.
//!
//! The targets come from a calibration file's `[[target]]` entries (series, place, sex and,
//! if given, years) or from the `targets` list of a finished calibration's `calibration.toml`
//! (`"SERIES PLACE SEX (N years, weight W)"`: series, place and sex; every year). A row is
//! targeted when:
//!
//! - `series`: a target names its series, place and sex, and (with target years) at least one
//!   compared year lies in them;
//! - `interval`, `count`: a target names its simulated series (at any place);
//! - `share`: targets name both the female series and its total (or male) twin at that place —
//!   the share is then fitted through its parts.

use std::ops::RangeInclusive;

use super::{Kind, UnitFit, checks::FEMALE_SHARE};
use crate::observed::SeriesKey;

/// The targeted units of one calibration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    /// Each target and its years (`None`: every observed year).
    pub units: Vec<(SeriesKey, Option<RangeInclusive<i32>>)>,
}

/// A `calibration.toml` that does not list its targets as expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TargetsError(pub String);

impl Targets {
    /// The targets listed by a finished calibration's `calibration.toml` (its text): the
    /// `[[fitted]]` tables (series, place, sex and the first and last year fitted), or, in a
    /// folder written before they existed, the `targets` strings (every year).
    pub fn from_manifest(text: &str) -> Result<Targets, TargetsError> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| TargetsError(format!("invalid TOML: {}", e.message())))?;
        if let Some(fitted) = table.get("fitted").and_then(|t| t.as_array()) {
            return fitted
                .iter()
                .map(fitted_unit)
                .collect::<Result<_, _>>()
                .map(|units| Targets { units });
        }
        let list = table
            .get("targets")
            .and_then(|t| t.as_array())
            .ok_or_else(|| TargetsError("expected a `targets` list of strings".into()))?;
        let units = list
            .iter()
            .map(|t| {
                let text = t.as_str().unwrap_or("");
                let mut words = text.split_whitespace();
                match (words.next(), words.next(), words.next()) {
                    (Some(series), Some(place), Some(sex))
                        if matches!(sex, "female" | "male" | "total") =>
                    {
                        Ok((
                            SeriesKey {
                                series: series.into(),
                                place: place.into(),
                                sex: sex.into(),
                            },
                            None,
                        ))
                    }
                    _ => Err(TargetsError(format!(
                        "targets: expected \"SERIES PLACE SEX (…)\", found {t}"
                    ))),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Targets { units })
    }

    fn names(&self, series: &str, place: &str, sex: &str) -> bool {
        self.units
            .iter()
            .any(|(k, _)| k.series == series && k.place == place && k.sex == sex)
    }

    /// Whether the calibration used the data of `fit`.
    pub fn covers(&self, fit: &UnitFit) -> bool {
        let k = &fit.key;
        match fit.kind {
            Kind::Series => self.units.iter().any(|(t, years)| {
                *t == *k
                    && years
                        .as_ref()
                        .is_none_or(|r| fit.pairs.iter().any(|p| r.contains(&p.year)))
            }),
            Kind::Interval | Kind::Count => self.units.iter().any(|(t, _)| t.series == k.series),
            Kind::Share => {
                let series = k.series.strip_suffix(FEMALE_SHARE).unwrap_or(&k.series);
                self.names(series, &k.place, "female")
                    && (self.names(series, &k.place, "total")
                        || self.names(series, &k.place, "male"))
            }
        }
    }

    /// Sets `targeted` on every row.
    pub fn mark(&self, fits: &mut [UnitFit]) {
        for f in fits {
            f.targeted = Some(self.covers(f));
        }
    }
}

/// One `[[fitted]]` table of a calibration's manifest.
fn fitted_unit(v: &toml::Value) -> Result<(SeriesKey, Option<RangeInclusive<i32>>), TargetsError> {
    let bad = || {
        TargetsError(format!(
            "fitted: expected series, place, sex, first, last; found {v}"
        ))
    };
    let text = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(String::from)
            .ok_or_else(bad)
    };
    let year = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_integer())
            .and_then(|y| i32::try_from(y).ok())
            .ok_or_else(bad)
    };
    Ok((
        SeriesKey {
            series: text("series")?,
            place: text("place")?,
            sex: text("sex")?,
        },
        Some(year("first")?..=year("last")?),
    ))
}
