//! The project's own observed files (`data/observed/`, see its README for sources), mapped to
//! simulated series names:
//!
//! | file | rows used | series |
//! |---|---|---|
//! | `mou_defector_arrivals_south_korea.csv` | `series=arrivals_in_year`, `preferred=1` | `mou_arrivals` (KOR, by sex) |
//! | `unhcr_prk_population_stock.csv` | refugees / asylum-seekers at year end | `unhcr_refugees`, `unhcr_asylum_seekers` |
//! | `unhcr_prk_asylum_applications.csv` | `app_type` N, V, NA or NR (new or unspecified) | `unhcr_asylum_applications` |
//! | `unhcr_prk_asylum_decisions.csv` | first-instance levels (FI, NA, IN, FA, TA) | `unhcr_decisions_*` |

use std::collections::HashMap;
use std::path::Path;

use super::{Observed, ObservedError, SeriesKey};

const MOU: &str = "mou_defector_arrivals_south_korea.csv";
const STOCK: &str = "unhcr_prk_population_stock.csv";
const APPLICATIONS: &str = "unhcr_prk_asylum_applications.csv";
const DECISIONS: &str = "unhcr_prk_asylum_decisions.csv";

/// Reads every known file present in `dir`.
pub fn load_project_dir(dir: &Path) -> Result<Observed, ObservedError> {
    let mut obs = Observed::default();
    if !dir.is_dir() {
        return Err(ObservedError::Io {
            path: dir.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        });
    }
    for (file, reader) in [
        (MOU, read_mou as Reader),
        (STOCK, read_stock as Reader),
        (APPLICATIONS, read_applications as Reader),
        (DECISIONS, read_decisions as Reader),
    ] {
        let path = dir.join(file);
        if path.exists() {
            each_row(&path, |row, line| reader(&mut obs, row, line))?;
            obs.files.push(path);
        }
    }
    Ok(obs)
}

type Reader = fn(&mut Observed, &Row<'_>, u64) -> Result<(), String>;

/// A CSV row addressed by column name.
struct Row<'a> {
    columns: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, name: &str) -> Result<&str, String> {
        let i = self
            .columns
            .get(name)
            .ok_or_else(|| format!("missing column `{name}`"))?;
        Ok(self.record.get(*i).unwrap_or("").trim())
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, String> {
        let s = self.get(name)?;
        s.parse()
            .map_err(|_| format!("column `{name}`: expected a number, found \"{s}\""))
    }
}

fn each_row(
    path: &Path,
    mut f: impl FnMut(&Row<'_>, u64) -> Result<(), String>,
) -> Result<(), ObservedError> {
    let name = path.display().to_string();
    let mut reader = csv::Reader::from_path(path).map_err(|e| ObservedError::Io {
        path: name.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| ObservedError::Format {
            path: name.clone(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let columns: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_string(), i))
        .collect();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| ObservedError::Format {
            path: name.clone(),
            line,
            message: e.to_string(),
        })?;
        f(
            &Row {
                columns: &columns,
                record: &record,
            },
            line,
        )
        .map_err(|message| ObservedError::Format {
            path: name.clone(),
            line,
            message,
        })?;
    }
    Ok(())
}

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

fn read_mou(obs: &mut Observed, row: &Row<'_>, _line: u64) -> Result<(), String> {
    if row.get("series")? != "arrivals_in_year" || row.get("preferred")? != "1" {
        return Ok(());
    }
    let sex = row.get("sex")?;
    obs.add(
        key("mou_arrivals", "KOR", sex),
        row.number("year")?,
        row.number("value")?,
        false,
    );
    Ok(())
}

fn read_stock(obs: &mut Observed, row: &Row<'_>, _line: u64) -> Result<(), String> {
    let series = match row.get("series")? {
        "refugees_stock_end_year" => "unhcr_refugees",
        "asylum_seekers_stock_end_year" => "unhcr_asylum_seekers",
        _ => return Ok(()),
    };
    let place = row.get("asylum_country_iso3")?;
    obs.add(
        key(series, place, "total"),
        row.number("year")?,
        row.number("value")?,
        masked(row)?,
    );
    Ok(())
}

fn read_applications(obs: &mut Observed, row: &Row<'_>, _line: u64) -> Result<(), String> {
    if !matches!(row.get("app_type")?, "N" | "V" | "NA" | "NR") {
        return Ok(());
    }
    let place = row.get("asylum_country_iso3")?;
    obs.add(
        key("unhcr_asylum_applications", place, "total"),
        row.number("year")?,
        row.number("value")?,
        masked(row)?,
    );
    Ok(())
}

fn read_decisions(obs: &mut Observed, row: &Row<'_>, _line: u64) -> Result<(), String> {
    if !matches!(row.get("dec_level")?, "FI" | "NA" | "IN" | "FA" | "TA") {
        return Ok(());
    }
    let series = match row.get("series")? {
        "decisions_recognized_convention" => "unhcr_decisions_recognized",
        "decisions_complementary_protection" => "unhcr_decisions_complementary",
        "decisions_rejected" => "unhcr_decisions_rejected",
        "decisions_otherwise_closed" => "unhcr_decisions_closed",
        _ => return Ok(()),
    };
    let place = row.get("asylum_country_iso3")?;
    obs.add(
        key(series, place, "total"),
        row.number("year")?,
        row.number("value")?,
        masked(row)?,
    );
    Ok(())
}
