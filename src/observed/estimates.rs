//! Published estimates of a hidden population, read as intervals (`other_estimates_nk_abroad.csv`
//! in the project's folder). They are not observations: each is a range (low–high), a point, a
//! floor ("at least") or a ceiling ("up to") from one source, several may cover the same year,
//! and they are compared with the simulated 90% band, never fitted.
//!
//! Rows used: `series = nk_refugees_in_hiding_estimate` with `location = China` — North Koreans
//! hiding anywhere in China, compared with the simulated `hidden_in_transit` summed over the
//! scenario's transit places in China (ISO3 `CHN`). The year is the one written (`2000-12`,
//! `1998`) or approximate (`c.2002` is read as 2002); undated rows, the separately labelled NGO
//! figure (`…_ngo`), other stocks and sub-regions (`Northeast China`, undated anyway) are left
//! out. An interval is `[value_low, value_high]`; a point `value_point` is `[point, point]`; a
//! low alone is `[low, ∞)` ("at least") and a high alone `[0, high]` ("up to").

use super::table::{Row, Table};
use super::{Observed, ObservedError};
use std::path::Path;

/// The project's file of estimates.
pub(super) const FILE: &str = "other_estimates_nk_abroad.csv";

/// The rows read, their location, and the simulated series and country they are compared with.
const USED: [(&str, &str, &str, &str); 1] = [(
    "nk_refugees_in_hiding_estimate",
    "China",
    "hidden_in_transit",
    "CHN",
)];

/// One published estimate as an interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Simulated series it is compared with (e.g. `hidden_in_transit`).
    pub series: String,
    /// Country (ISO3): the simulated series is summed over the scenario's places in it.
    pub country: String,
    /// Year (31 December).
    pub year: i32,
    /// Whether the source dates it only approximately (`c.2002`).
    pub approximate: bool,
    /// Lower end (0 for "up to").
    pub low: f64,
    /// Upper end (infinite for "at least").
    pub high: f64,
    /// The file's `source_id`.
    pub source: String,
}

/// `2000-12` → 2000, `1998` → 1998, `c.2002` → 2002 (approximate); `None` when undated.
fn year(text: &str) -> Option<(i32, bool)> {
    let (text, approximate) = match text.strip_prefix("c.") {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let digits = text.get(..4)?;
    let rest = &text[4..];
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !(rest.is_empty() || rest.starts_with('-')) {
        return None;
    }
    Some((digits.parse().ok()?, approximate))
}

fn read_row(row: &Row<'_>) -> Result<Option<Estimate>, String> {
    let (series, location) = (row.get("series")?, row.get("location")?);
    let Some(&(_, _, simulated, country)) = USED
        .iter()
        .find(|(s, l, _, _)| *s == series && *l == location)
    else {
        return Ok(None);
    };
    let Some((year, approximate)) = year(row.get("year")?) else {
        return Ok(None);
    };
    let (low, high, point) = (
        row.count("value_low")?,
        row.count("value_high")?,
        row.count("value_point")?,
    );
    let (low, high) = match (low, high, point) {
        (None, None, Some(p)) => (p, p),
        (Some(l), Some(h), None) if l <= h => (l, h),
        (Some(l), None, None) => (l, f64::INFINITY),
        (None, Some(h), None) => (0.0, h),
        _ => {
            return Err(
                "expected value_low <= value_high, or value_low alone, value_high alone or value_point alone"
                    .to_string(),
            );
        }
    };
    Ok(Some(Estimate {
        series: simulated.to_string(),
        country: country.to_string(),
        year,
        approximate,
        low,
        high,
        source: row.get("source_id")?.to_string(),
    }))
}

/// Reads the estimates of `path` into `obs.estimates`, ordered by year, then source.
pub(super) fn read(path: &Path, obs: &mut Observed) -> Result<(), ObservedError> {
    let table = Table::open(path)?;
    table.require(
        &[
            "series",
            "location",
            "year",
            "value_low",
            "value_high",
            "value_point",
            "source_id",
        ],
        "the estimates file",
    )?;
    let mut found = Vec::new();
    table.for_each(|row| {
        found.extend(read_row(row)?);
        Ok(())
    })?;
    found.sort_by(|a, b| (a.year, &a.source).cmp(&(b.year, &b.source)));
    obs.estimates.extend(found);
    obs.files.push(path.to_path_buf());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_as_written_approximate_or_undated() {
        assert_eq!(year("2000-12"), Some((2000, false)));
        assert_eq!(year("1998"), Some((1998, false)));
        assert_eq!(year("c.2002"), Some((2002, true)));
        assert_eq!(year("undated (c.2017-2019)"), None);
        assert_eq!(year("undated"), None);
        assert_eq!(year("2010-10-20"), Some((2010, false)));
        assert_eq!(year("20x0"), None);
    }
}
