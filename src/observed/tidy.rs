//! The tidy layout: any CSV with the columns `year, series, place, sex, value`, the layout of a
//! run's `series.csv`. Researchers use it for their own series, and calibration tests use a
//! simulated `series.csv` of one replicate as "observed" data (a file with several replicates is
//! refused: observed data are one record). An optional `masked_cells` column counts cells
//! published as a masked 5. Values are numbers >= 0 (a run's series holds shares too); empty
//! values are "not reported"; a row may not repeat the year, series, place and sex of another.
//! Nothing is known about stock or flow: the series name decides.

use std::path::Path;

use super::table::{Table, UniqueKeys};
use super::{Observed, ObservedError, SeriesKey};

/// Columns that make a file tidy.
pub const TIDY_COLUMNS: [&str; 5] = ["year", "series", "place", "sex", "value"];

/// Whether the file at `path` has the tidy columns (false if it cannot be read).
pub fn is_tidy(path: &Path) -> bool {
    Table::open(path).is_ok_and(|t| TIDY_COLUMNS.iter().all(|c| t.has(c)))
}

/// Reads a tidy file.
pub fn load_tidy_file(path: &Path) -> Result<Observed, ObservedError> {
    let table = Table::open(path)?;
    table.require(
        &TIDY_COLUMNS,
        "a tidy file (year, series, place, sex, value)",
    )?;
    let replicated = table.has("replicate");
    let masked = table.has("masked_cells");
    let mut keys = UniqueKeys::new(&table, &["year", "series", "place", "sex"]);
    let mut replicate: Option<String> = None;
    let mut obs = Observed::default();
    table.for_each(|row| {
        if replicated {
            let r = row.get("replicate")?;
            match &replicate {
                None => replicate = Some(r.to_string()),
                Some(first) if first != r => {
                    return Err(format!(
                        "replicate {r} after replicate {first}: observed data are one record, \
                         not a run's replicates (keep one replicate's rows)"
                    ));
                }
                Some(_) => {}
            }
        }
        keys.check(row)?;
        let Some(value) = row.amount("value")? else {
            return Ok(());
        };
        let sex = row.get("sex")?;
        if !matches!(sex, "female" | "male" | "total") {
            return Err(format!(
                "column `sex`: expected female, male or total, found \"{sex}\""
            ));
        }
        let key = SeriesKey {
            series: row.get("series")?.to_string(),
            place: row.get("place")?.to_string(),
            sex: sex.to_string(),
        };
        let cells: u32 = if masked {
            row.number("masked_cells")?
        } else {
            0
        };
        let year: i32 = row.number("year")?;
        obs.add(key.clone(), year, value, false);
        if let Some(p) = obs.series.get_mut(&key).and_then(|s| s.get_mut(&year)) {
            p.masked_cells += cells;
        }
        Ok(())
    })?;
    obs.files.push(path.to_path_buf());
    Ok(obs)
}
