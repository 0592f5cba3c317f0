//! The project's own observed files (`data/observed/`, see its README for sources), mapped to
//! simulated series names:
//!
//! | file | rows used | series |
//! |---|---|---|
//! | `mou_defector_arrivals_south_korea.csv` | `series=arrivals_in_year`, `preferred=1` | `mou_arrivals` (KOR, by sex) |
//! | `unhcr_prk_population_stock.csv` | refugees / asylum-seekers at year end | `unhcr_refugees`, `unhcr_asylum_seekers` |
//! | `unhcr_prk_asylum_applications.csv` | `app_type` N, V, NA or NR (new or unspecified) | `unhcr_asylum_applications` |
//! | `unhcr_prk_asylum_decisions.csv` | first-instance levels (FI, NA, IN, FA, TA) | `unhcr_decisions_*` |
//! | `other_estimates_nk_abroad.csv` | estimates of people hiding in China (module `estimates`) | intervals, not series |
//!
//! With an origin given, UNHCR rows of other origins (column `origin`) are skipped; the MOU file
//! counts arrivals from the DPRK only, and the estimates are of North Koreans, so both are read
//! for origin `PRK` alone.

use std::path::Path;

use super::table::{Row, Table, UniqueKeys};
use super::{Measure, Observed, ObservedError, SeriesKey};

const MOU: &str = "mou_defector_arrivals_south_korea.csv";
const STOCK: &str = "unhcr_prk_population_stock.csv";
const APPLICATIONS: &str = "unhcr_prk_asylum_applications.csv";
const DECISIONS: &str = "unhcr_prk_asylum_decisions.csv";

/// UNHCR `app_type` codes of new (or unspecified) applications: the rows counted as applications.
pub(super) const NEW_APPLICATION_TYPES: [&str; 4] = ["N", "V", "NA", "NR"];

/// UNHCR `dec_level` codes of first-instance decisions: the rows counted as decisions.
pub(super) const FIRST_INSTANCE_LEVELS: [&str; 5] = ["FI", "NA", "IN", "FA", "TA"];

/// Origin of the people the MOU file counts (it has no origin column).
const MOU_ORIGIN: &str = "PRK";

/// Reads every known file present in `dir`; with `origin`, only rows of that origin (ISO3).
pub fn load_project_dir(dir: &Path, origin: Option<&str>) -> Result<Observed, ObservedError> {
    let mut obs = Observed::default();
    if !dir.is_dir() {
        return Err(ObservedError::Io {
            path: dir.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        });
    }
    for (file, reader, key) in [
        (MOU, read_mou as Reader, MOU_KEY),
        (STOCK, read_stock as Reader, STOCK_KEY),
        (APPLICATIONS, read_applications as Reader, APPLICATIONS_KEY),
        (DECISIONS, read_decisions as Reader, DECISIONS_KEY),
    ] {
        let path = dir.join(file);
        if path.exists() {
            let table = Table::open(&path)?;
            let mut keys = UniqueKeys::new(&table, key);
            table.for_each(|row| {
                let row_origin = if file == MOU {
                    MOU_ORIGIN
                } else {
                    row.get("origin")?
                };
                if origin.is_some_and(|o| o != row_origin) {
                    return Ok(());
                }
                reader(&mut obs, row, &mut keys)
            })?;
            obs.files.push(path);
        }
    }
    let path = dir.join(super::estimates::FILE);
    if path.exists() && origin.is_none_or(|o| o == MOU_ORIGIN) {
        super::estimates::read(&path, &mut obs)?;
    }
    for (series, measure) in [
        ("mou_arrivals", Measure::Flow),
        ("unhcr_refugees", Measure::Stock),
        ("unhcr_asylum_seekers", Measure::Stock),
        ("unhcr_asylum_applications", Measure::Flow),
        ("unhcr_decisions_recognized", Measure::Flow),
        ("unhcr_decisions_complementary", Measure::Flow),
        ("unhcr_decisions_rejected", Measure::Flow),
        ("unhcr_decisions_closed", Measure::Flow),
    ] {
        if obs.series.keys().any(|k| k.series == series) {
            obs.measures.insert(series.to_string(), measure);
        }
    }
    Ok(obs)
}

/// Reads one row into `obs`; a row it uses must not repeat the key of another (`keys`).
type Reader = fn(&mut Observed, &Row<'_>, &mut UniqueKeys) -> Result<(), String>;

/// The columns that tell the rows of each file apart.
const MOU_KEY: &[&str] = &["series", "year", "sex"];
const STOCK_KEY: &[&str] = &["series", "origin", "asylum_country_iso3", "year"];
const APPLICATIONS_KEY: &[&str] = &[
    "series",
    "origin",
    "asylum_country_iso3",
    "year",
    "procedure_type",
    "app_type",
    "dec_level",
    "persons_or_cases",
];
const DECISIONS_KEY: &[&str] = &[
    "series",
    "origin",
    "asylum_country_iso3",
    "year",
    "procedure_type",
    "dec_level",
    "persons_or_cases",
];

fn key(series: &str, place: &str, sex: &str) -> SeriesKey {
    SeriesKey {
        series: series.into(),
        place: place.into(),
        sex: sex.into(),
    }
}

fn masked(row: &Row<'_>) -> Result<bool, String> {
    Ok(row.get("flag")? == "value_5_may_be_1to5")
}

fn read_mou(obs: &mut Observed, row: &Row<'_>, keys: &mut UniqueKeys) -> Result<(), String> {
    if row.get("series")? != "arrivals_in_year" || row.get("preferred")? != "1" {
        return Ok(());
    }
    keys.check(row)?;
    let sex = row.get("sex")?;
    obs.add(
        key("mou_arrivals", "KOR", sex),
        row.number("year")?,
        row.required_count("value")?,
        false,
    );
    Ok(())
}

fn read_stock(obs: &mut Observed, row: &Row<'_>, keys: &mut UniqueKeys) -> Result<(), String> {
    let series = match row.get("series")? {
        "refugees_stock_end_year" => "unhcr_refugees",
        "asylum_seekers_stock_end_year" => "unhcr_asylum_seekers",
        _ => return Ok(()),
    };
    keys.check(row)?;
    let place = row.get("asylum_country_iso3")?;
    obs.add(
        key(series, place, "total"),
        row.number("year")?,
        row.required_count("value")?,
        masked(row)?,
    );
    Ok(())
}

fn read_applications(
    obs: &mut Observed,
    row: &Row<'_>,
    keys: &mut UniqueKeys,
) -> Result<(), String> {
    if !NEW_APPLICATION_TYPES.contains(&row.get("app_type")?) {
        return Ok(());
    }
    keys.check(row)?;
    let place = row.get("asylum_country_iso3")?;
    obs.add(
        key("unhcr_asylum_applications", place, "total"),
        row.number("year")?,
        row.required_count("value")?,
        masked(row)?,
    );
    Ok(())
}

fn read_decisions(obs: &mut Observed, row: &Row<'_>, keys: &mut UniqueKeys) -> Result<(), String> {
    if !FIRST_INSTANCE_LEVELS.contains(&row.get("dec_level")?) {
        return Ok(());
    }
    let series = match row.get("series")? {
        "decisions_recognized_convention" => "unhcr_decisions_recognized",
        "decisions_complementary_protection" => "unhcr_decisions_complementary",
        "decisions_rejected" => "unhcr_decisions_rejected",
        "decisions_otherwise_closed" => "unhcr_decisions_closed",
        _ => return Ok(()),
    };
    keys.check(row)?;
    let place = row.get("asylum_country_iso3")?;
    obs.add(
        key(series, place, "total"),
        row.number("year")?,
        row.required_count("value")?,
        masked(row)?,
    );
    Ok(())
}
