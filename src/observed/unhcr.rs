//! UNHCR's published table layout, as it comes from the population-statistics API and the
//! `refugees` R package, read unchanged. Which table a file holds is told by its header:
//!
//! | table | recognised by | required columns | series (stock or flow) |
//! |---|---|---|---|
//! | population | `refugees` or `asylum_seekers` | `year, coo_iso, coa_iso, refugees, asylum_seekers` | `unhcr_refugees`, `unhcr_asylum_seekers` (stocks at year end) |
//! | asylum applications | `applied` or `app_type` | `year, coo_iso, coa_iso, app_type, applied` | `unhcr_asylum_applications` (flow) |
//! | asylum decisions | any `dec_*` count | `year, coo_iso, coa_iso, dec_level, dec_recognized, dec_other, dec_rejected, dec_closed` | `unhcr_decisions_recognized`, `_complementary` (`dec_other`), `_rejected`, `_closed` (flows) |
//!
//! Rows are kept when `coo_iso` is the origin; places are `coa_iso`. Applications count the new
//! or unspecified types (`app_type` N, V, NA, NR) and decisions the first-instance levels, as the
//! project's own files do. Other columns are ignored. A missing row is not reported (absent), an
//! empty cell is not reported for that measure, and a published 5 is a masked cell ("1 to 5":
//! UNHCR never publishes 1–4).

use std::path::Path;

use super::project::{FIRST_INSTANCE_LEVELS, NEW_APPLICATION_TYPES};
use super::table::{Row, Table, UniqueKeys};
use super::{Measure, Observed, ObservedError, SeriesKey};

/// The published value UNHCR shows for any count from 1 to 5.
const MASKED: f64 = 5.0;

/// Which UNHCR table a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnhcrTable {
    /// Stocks by country of origin and asylum (`population`).
    Population,
    /// Claims lodged (`asylum_applications`).
    Applications,
    /// Decisions by outcome (`asylum_decisions`).
    Decisions,
}

impl UnhcrTable {
    fn name(self) -> &'static str {
        match self {
            UnhcrTable::Population => "UNHCR's population table",
            UnhcrTable::Applications => "UNHCR's asylum_applications table",
            UnhcrTable::Decisions => "UNHCR's asylum_decisions table",
        }
    }

    fn required(self) -> &'static [&'static str] {
        match self {
            UnhcrTable::Population => &["year", "coo_iso", "coa_iso", "refugees", "asylum_seekers"],
            UnhcrTable::Applications => &["year", "coo_iso", "coa_iso", "app_type", "applied"],
            UnhcrTable::Decisions => &[
                "year",
                "coo_iso",
                "coa_iso",
                "dec_level",
                "dec_recognized",
                "dec_other",
                "dec_rejected",
                "dec_closed",
            ],
        }
    }

    /// The columns that tell its rows apart (those of them the file has).
    fn key(self) -> &'static [&'static str] {
        match self {
            UnhcrTable::Population => &["year", "coo_iso", "coa_iso"],
            UnhcrTable::Applications => &[
                "year",
                "coo_iso",
                "coa_iso",
                "procedure_type",
                "app_type",
                "dec_level",
                "app_pc",
            ],
            UnhcrTable::Decisions => &[
                "year",
                "coo_iso",
                "coa_iso",
                "procedure_type",
                "dec_level",
                "dec_pc",
            ],
        }
    }

    /// Measures read from the table: (column, series, stock or flow).
    fn measures(self) -> &'static [(&'static str, &'static str, Measure)] {
        match self {
            UnhcrTable::Population => &[
                ("refugees", "unhcr_refugees", Measure::Stock),
                ("asylum_seekers", "unhcr_asylum_seekers", Measure::Stock),
            ],
            UnhcrTable::Applications => &[("applied", "unhcr_asylum_applications", Measure::Flow)],
            UnhcrTable::Decisions => &[
                (
                    "dec_recognized",
                    "unhcr_decisions_recognized",
                    Measure::Flow,
                ),
                ("dec_other", "unhcr_decisions_complementary", Measure::Flow),
                ("dec_rejected", "unhcr_decisions_rejected", Measure::Flow),
                ("dec_closed", "unhcr_decisions_closed", Measure::Flow),
            ],
        }
    }

    /// Whether a row is counted (the filters of the project's own files).
    fn keeps(self, row: &Row<'_>) -> Result<bool, String> {
        Ok(match self {
            UnhcrTable::Population => true,
            UnhcrTable::Applications => NEW_APPLICATION_TYPES.contains(&row.get("app_type")?),
            UnhcrTable::Decisions => FIRST_INSTANCE_LEVELS.contains(&row.get("dec_level")?),
        })
    }
}

/// Which UNHCR table a header belongs to, if any.
fn detect(table: &Table) -> Option<UnhcrTable> {
    let any = |names: &[&str]| names.iter().any(|n| table.has(n));
    if any(&[
        "dec_recognized",
        "dec_other",
        "dec_rejected",
        "dec_closed",
        "dec_total",
    ]) {
        Some(UnhcrTable::Decisions)
    } else if any(&["applied", "app_type"]) {
        Some(UnhcrTable::Applications)
    } else if any(&["refugees", "asylum_seekers"]) {
        Some(UnhcrTable::Population)
    } else {
        None
    }
}

/// Reads a file in UNHCR's layout, keeping rows whose `coo_iso` is `origin`.
pub fn load_unhcr_file(path: &Path, origin: &str) -> Result<Observed, ObservedError> {
    let table = Table::open(path)?;
    let kind = detect(&table).ok_or_else(|| {
        table.error(
            1,
            "not a table in UNHCR's layout: expected the columns of population \
             (refugees, asylum_seekers), asylum_applications (app_type, applied) or \
             asylum_decisions (dec_recognized, dec_other, dec_rejected, dec_closed)"
                .to_string(),
        )
    })?;
    table.require(kind.required(), kind.name())?;
    let mut keys = UniqueKeys::new(&table, kind.key());
    let mut obs = Observed::default();
    table.for_each(|row| {
        if row.get("coo_iso")? != origin || !kind.keeps(row)? {
            return Ok(());
        }
        keys.check(row)?;
        let year: i32 = row.number("year")?;
        let place = row.get("coa_iso")?;
        if place.is_empty() {
            return Err("column `coa_iso`: empty".to_string());
        }
        for &(column, series, _) in kind.measures() {
            if let Some(v) = row.count(column)? {
                let key = SeriesKey {
                    series: series.to_string(),
                    place: place.to_string(),
                    sex: "total".to_string(),
                };
                obs.add(key, year, v, v == MASKED);
            }
        }
        Ok(())
    })?;
    for &(_, series, measure) in kind.measures() {
        obs.measures.insert(series.to_string(), measure);
    }
    obs.files.push(path.to_path_buf());
    Ok(obs)
}
