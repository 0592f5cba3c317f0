//! What a sweep keeps beside the fit: any series of the run, at one place or summed over
//! places, in one year, per year, or reduced over a range of years, and the fit distance.
//!
//! A `keep` entry is one string of `:`-separated fields:
//!
//! ```text
//! SERIES:PLACE[:SEX][:YEARS][:STAT]      e.g. onward_departures:*:2005-2020:sum
//! fit:distance                           the run's distance to the observed data
//! fit:log1p_rmse:SERIES:PLACE[:SEX]      one unit's log1p RMSE
//! ```
//!
//! `PLACE` is a place id, several joined by `+` (`GBR+CAN`), or `*` for every place the series
//! is reported at (summed); `SEX` is `female`, `male` or `total` (the default); `YEARS` is a
//! year or `FIRST-LAST` (default: every simulated year); `STAT` reduces the years to one number:
//! `sum`, `mean`, `min` or `max`. A range without a statistic keeps one value per year.
//!
//! [`parse`] checks the syntax (errors carry the character offset of the bad field, so the
//! design can point at it); [`Keeper::new`] checks names against the scenario's observation
//! plan when the sweep is planned; [`Keeper::values`] computes the kept numbers of one run from
//! its rows and its fit.

use std::fmt;

use crate::compare::UnitFit;
use crate::observe::{ALL_PLACES, Layout, Plan, Row, Sex};

/// How a range of years is reduced to one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    /// Sum over the years.
    Sum,
    /// Mean over the years.
    Mean,
    /// Smallest yearly value.
    Min,
    /// Largest yearly value.
    Max,
}

impl Stat {
    const NAMES: [(&'static str, Stat); 4] = [
        ("sum", Stat::Sum),
        ("mean", Stat::Mean),
        ("min", Stat::Min),
        ("max", Stat::Max),
    ];

    fn reduce(self, values: &[f64]) -> f64 {
        match self {
            Stat::Sum => values.iter().sum(),
            Stat::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Stat::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
            Stat::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Which places a kept series is summed over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Places {
    /// Every place the series is reported at (`*`).
    Every,
    /// These place ids (one, or several joined by `+`).
    Ids(Vec<String>),
}

/// One parsed `keep` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepSpec {
    /// `fit:distance`.
    Distance,
    /// `fit:log1p_rmse:SERIES:PLACE[:SEX]`.
    UnitFit {
        /// Series.
        series: String,
        /// Place id.
        place: String,
        /// Sex.
        sex: Sex,
    },
    /// A series of the run.
    Series {
        /// Series name.
        series: String,
        /// Places summed.
        places: Places,
        /// Sex.
        sex: Sex,
        /// `[first, last]` year; `None` for every simulated year.
        years: Option<(i32, i32)>,
        /// Reduction over the years; `None` keeps one value per year.
        stat: Option<Stat>,
    },
}

/// A `keep` entry: its text (the name of the output in `results.csv`) and its meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keep {
    /// As written (trimmed): the output's name.
    pub text: String,
    /// What it means.
    pub spec: KeepSpec,
}

impl Keep {
    /// Whether the entry is one number per run (else one per year).
    pub fn is_scalar(&self) -> bool {
        match &self.spec {
            KeepSpec::Series { years, stat, .. } => {
                stat.is_some() || years.is_some_and(|(a, b)| a == b)
            }
            _ => true,
        }
    }
}

/// A syntax error in a `keep` entry: what is wrong, and at which character of the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeepError {
    /// Character offset of the offending field within the entry.
    pub offset: usize,
    /// `expected …, found …`.
    pub message: String,
}

impl fmt::Display for KeepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

const SYNTAX: &str =
    "SERIES:PLACE[:SEX][:YEARS][:STAT], fit:distance or fit:log1p_rmse:SERIES:PLACE[:SEX]";

fn sex(s: &str) -> Option<Sex> {
    match s {
        "female" => Some(Sex::Female),
        "male" => Some(Sex::Male),
        "total" => Some(Sex::Total),
        _ => None,
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A year, or `FIRST-LAST` with `FIRST <= LAST`; `Err` with the reason when it looks like
/// years but is not valid, `Ok(None)` when it does not look like years at all.
fn years(s: &str) -> Result<Option<(i32, i32)>, String> {
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(None);
    }
    let bad = || format!("expected a year or a range of years like 2005-2020, found \"{s}\"");
    let year = |t: &str| -> Result<i32, String> {
        if t.len() == 4 && t.chars().all(|c| c.is_ascii_digit()) {
            t.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    match s.split_once('-') {
        None => year(s).map(|y| Some((y, y))),
        Some((a, b)) => {
            let (a, b) = (year(a)?, year(b)?);
            if a > b {
                return Err(format!(
                    "expected a range FIRST-LAST with FIRST <= LAST, found \"{s}\""
                ));
            }
            Ok(Some((a, b)))
        }
    }
}

/// Parses one `keep` entry.
pub fn parse(text: &str) -> Result<Keep, KeepError> {
    let lead = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    // Character offsets of each field within `text`.
    let mut fields: Vec<(usize, &str)> = Vec::new();
    let mut at = text[..lead].chars().count();
    for f in trimmed.split(':') {
        fields.push((at, f));
        at += f.chars().count() + 1;
    }
    let err = |offset: usize, message: String| KeepError { offset, message };
    let (o0, first) = fields[0];
    if first.is_empty() {
        return Err(err(o0, format!("expected {SYNTAX}, found \"{trimmed}\"")));
    }
    if first == "fit" {
        return parse_fit(trimmed, &fields);
    }
    if !is_name(first) {
        return Err(err(
            o0,
            format!("expected a series name (letters, digits, `_`), found \"{first}\""),
        ));
    }
    let Some(&(o1, place)) = fields.get(1) else {
        return Err(err(
            o0 + first.chars().count(),
            format!(
                "expected `:PLACE` after the series (a place id, ids joined by `+`, or `*` for every place), found the end of \"{trimmed}\""
            ),
        ));
    };
    let places = if place == "*" {
        Places::Every
    } else {
        let ids: Vec<&str> = place.split('+').collect();
        if let Some(bad) = ids.iter().find(|p| !is_name(p)) {
            return Err(err(
                o1,
                format!(
                    "expected a place id, ids joined by `+`, or `*` for every place, found \"{}\"",
                    if bad.is_empty() { place } else { bad }
                ),
            ));
        }
        Places::Ids(ids.iter().map(|s| s.to_string()).collect())
    };
    let mut sex_field = None;
    let mut years_field = None;
    let mut stat_field = None;
    for &(o, f) in &fields[2..] {
        let stage = if stat_field.is_some() {
            3
        } else if years_field.is_some() {
            2
        } else if sex_field.is_some() {
            1
        } else {
            0
        };
        let out_of_order = |what: &str| {
            err(
                o,
                format!(
                    "expected the fields in the order SERIES:PLACE[:SEX][:YEARS][:STAT], found {what} \"{f}\" after {}",
                    ["", "the sex", "the years", "the statistic"][stage]
                ),
            )
        };
        if let Some(s) = sex(f) {
            if stage >= 1 {
                return Err(out_of_order("the sex"));
            }
            sex_field = Some(s);
        } else if let Some(y) = years(f).map_err(|m| err(o, m))? {
            if stage >= 2 {
                return Err(out_of_order("the years"));
            }
            years_field = Some(y);
        } else if let Some(&(_, s)) = Stat::NAMES.iter().find(|(n, _)| *n == f) {
            if stage >= 3 {
                return Err(err(
                    o,
                    format!("expected one statistic, found a second, \"{f}\""),
                ));
            }
            stat_field = Some((o, s));
        } else {
            return Err(err(
                o,
                format!(
                    "expected a sex (female, male, total), years (2010 or 2005-2020) or a statistic (sum, mean, min, max), found \"{f}\""
                ),
            ));
        }
    }
    if let (Some((o, _)), Some((a, b))) = (stat_field, years_field)
        && a == b
    {
        return Err(err(
            o,
            format!(
                "a statistic reduces a range of years, found one year ({a}): remove it, or give a range like {a}-{}",
                a + 1
            ),
        ));
    }
    Ok(Keep {
        text: trimmed.to_string(),
        spec: KeepSpec::Series {
            series: first.to_string(),
            places,
            sex: sex_field.unwrap_or(Sex::Total),
            years: years_field,
            stat: stat_field.map(|s| s.1),
        },
    })
}

fn parse_fit(trimmed: &str, fields: &[(usize, &str)]) -> Result<Keep, KeepError> {
    let err = |offset: usize, message: String| KeepError { offset, message };
    let end = fields.last().map_or(0, |(o, f)| o + f.chars().count());
    let spec = match fields.get(1).map(|f| f.1) {
        Some("distance") if fields.len() == 2 => KeepSpec::Distance,
        Some("distance") => {
            return Err(err(
                fields[2].0,
                format!(
                    "expected nothing after fit:distance, found \"{}\"",
                    fields[2].1
                ),
            ));
        }
        Some("log1p_rmse") => {
            let (Some(&(os, series)), Some(&(op, place))) = (fields.get(2), fields.get(3)) else {
                return Err(err(
                    end,
                    format!("expected fit:log1p_rmse:SERIES:PLACE[:SEX], found \"{trimmed}\""),
                ));
            };
            if !is_name(series) {
                return Err(err(
                    os,
                    format!("expected a series name, found \"{series}\""),
                ));
            }
            if !is_name(place) {
                return Err(err(op, format!("expected one place id, found \"{place}\"")));
            }
            let sex = match fields.get(4) {
                None => Sex::Total,
                Some(&(o, f)) => sex(f).ok_or_else(|| {
                    err(o, format!("expected female, male or total, found \"{f}\""))
                })?,
            };
            if let Some(&(o, f)) = fields.get(5) {
                return Err(err(
                    o,
                    format!("expected nothing after the sex, found \"{f}\""),
                ));
            }
            KeepSpec::UnitFit {
                series: series.to_string(),
                place: place.to_string(),
                sex,
            }
        }
        other => {
            let o = fields.get(1).map_or(end, |f| f.0);
            return Err(err(
                o,
                format!(
                    "expected fit:distance or fit:log1p_rmse:SERIES:PLACE[:SEX], found fit:{}",
                    other.unwrap_or("")
                ),
            ));
        }
    };
    Ok(Keep {
        text: trimmed.to_string(),
        spec,
    })
}

/// One kept number of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeptValue {
    /// Index of the entry in the design's `keep`.
    pub entry: usize,
    /// The year, for entries kept per year.
    pub year: Option<i32>,
    /// The value; `None` where undefined (a fit without compared years).
    pub value: Option<f64>,
}

/// A series entry resolved against an observation plan.
#[derive(Clone, Debug)]
struct Resolved {
    series: u16,
    places: Vec<u16>,
    sex: Sex,
    years: (i32, i32),
    stat: Option<Stat>,
}

/// The `keep` entries of a design, checked against a scenario's observation plan.
#[derive(Clone, Debug)]
pub struct Keeper {
    entries: Vec<(Keep, Option<Resolved>)>,
}

/// A `keep` entry that names something the run does not produce: its index and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// Index in `keep`.
    pub entry: usize,
    /// `expected …, found …`.
    pub message: String,
}

impl Keeper {
    /// Resolves `keeps` against `plan` for runs of `years` (first, last simulated year).
    pub fn new(keeps: &[Keep], plan: &Plan, years: (i32, i32)) -> Result<Keeper, Unknown> {
        let entries = keeps
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let resolved = resolve(&k.spec, plan, years)
                    .map_err(|message| Unknown { entry: i, message })?;
                Ok((k.clone(), resolved))
            })
            .collect::<Result<_, Unknown>>()?;
        Ok(Keeper { entries })
    }

    /// Whether there is nothing to keep.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The kept values of one run, from all of its rows and its fit, in entry order (years in
    /// order within an entry).
    pub fn values(&self, rows: &[Row], fits: &[UnitFit]) -> Vec<KeptValue> {
        let mut out = Vec::new();
        for (entry, (keep, resolved)) in self.entries.iter().enumerate() {
            match (&keep.spec, resolved) {
                (KeepSpec::Distance, _) => out.push(KeptValue {
                    entry,
                    year: None,
                    value: crate::compare::distance(fits),
                }),
                (KeepSpec::UnitFit { series, place, sex }, _) => {
                    let value = fits
                        .iter()
                        .find(|f| {
                            f.key.series == *series
                                && f.key.place == *place
                                && f.key.sex == sex.name()
                        })
                        .and_then(|f| f.log1p_rmse);
                    out.push(KeptValue {
                        entry,
                        year: None,
                        value,
                    });
                }
                (KeepSpec::Series { .. }, Some(r)) => series_values(entry, r, rows, &mut out),
                (KeepSpec::Series { .. }, None) => unreachable!("series entries are resolved"),
            }
        }
        out
    }
}

fn series_values(entry: usize, r: &Resolved, rows: &[Row], out: &mut Vec<KeptValue>) {
    let (first, last) = r.years;
    let mut yearly = vec![0.0; (last - first + 1) as usize];
    for row in rows {
        if row.series == r.series
            && row.sex == r.sex
            && (first..=last).contains(&row.year)
            && r.places.contains(&row.place)
        {
            yearly[(row.year - first) as usize] += row.value;
        }
    }
    match r.stat {
        Some(stat) => out.push(KeptValue {
            entry,
            year: None,
            value: Some(stat.reduce(&yearly)),
        }),
        None if first == last => out.push(KeptValue {
            entry,
            year: None,
            value: Some(yearly[0]),
        }),
        None => out.extend((first..=last).zip(yearly).map(|(year, v)| KeptValue {
            entry,
            year: Some(year),
            value: Some(v),
        })),
    }
}

fn resolve(spec: &KeepSpec, plan: &Plan, run: (i32, i32)) -> Result<Option<Resolved>, String> {
    let layout: &Layout = &plan.layout;
    let check_series = |series: &str| -> Result<(Vec<&str>, bool), String> {
        plan.series_places(series).ok_or_else(|| {
            format!(
                "expected a series the run produces ({}), found `{series}`",
                layout.series.join(", ")
            )
        })
    };
    let check_sex = |series: &str, sex: Sex, by_sex: bool| -> Result<(), String> {
        if sex != Sex::Total && !by_sex {
            return Err(format!(
                "`{series}` has only total rows (declare it with by_sex = true for {} rows)",
                sex.name()
            ));
        }
        Ok(())
    };
    match spec {
        KeepSpec::Distance => Ok(None),
        KeepSpec::UnitFit { series, place, sex } => {
            let (places, by_sex) = check_series(series)?;
            if !places.contains(&place.as_str()) {
                return Err(format!(
                    "expected a place `{series}` is reported at ({}), found `{place}`",
                    places.join(", ")
                ));
            }
            check_sex(series, *sex, by_sex)?;
            Ok(None)
        }
        KeepSpec::Series {
            series,
            places,
            sex,
            years,
            stat,
        } => {
            let (at, by_sex) = check_series(series)?;
            check_sex(series, *sex, by_sex)?;
            let ids: Vec<&str> = match places {
                Places::Every => at.clone(),
                Places::Ids(ids) => {
                    for id in ids {
                        if !at.contains(&id.as_str()) {
                            return Err(format!(
                                "expected a place `{series}` is reported at ({}), found `{id}`",
                                at.join(", ")
                            ));
                        }
                    }
                    ids.iter().map(String::as_str).collect()
                }
            };
            let years = years.unwrap_or(run);
            if years.0 < run.0 || years.1 > run.1 {
                return Err(format!(
                    "expected years within the run, {}-{}, found {}-{}",
                    run.0, run.1, years.0, years.1
                ));
            }
            let place_index = |id: &str| -> u16 {
                let i = if id == ALL_PLACES {
                    layout.places.len() - 1
                } else {
                    layout
                        .places
                        .iter()
                        .position(|p| p == id)
                        .expect("a place of the series")
                };
                i as u16
            };
            Ok(Some(Resolved {
                series: layout
                    .series
                    .iter()
                    .position(|s| s == series)
                    .expect("a series of the plan") as u16,
                places: ids.into_iter().map(place_index).collect(),
                sex: *sex,
                years,
                stat: *stat,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> KeepSpec {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).spec
    }

    #[test]
    fn entries_parse_to_their_meaning() {
        assert_eq!(
            spec("onward_departures:*:2005-2020:sum"),
            KeepSpec::Series {
                series: "onward_departures".into(),
                places: Places::Every,
                sex: Sex::Total,
                years: Some((2005, 2020)),
                stat: Some(Stat::Sum),
            }
        );
        assert_eq!(
            spec(" mou_arrivals:KOR:female:2010 "),
            KeepSpec::Series {
                series: "mou_arrivals".into(),
                places: Places::Ids(vec!["KOR".into()]),
                sex: Sex::Female,
                years: Some((2010, 2010)),
                stat: None,
            }
        );
        assert_eq!(
            spec("unhcr_refugees:GBR+CAN:max"),
            KeepSpec::Series {
                series: "unhcr_refugees".into(),
                places: Places::Ids(vec!["GBR".into(), "CAN".into()]),
                sex: Sex::Total,
                years: None,
                stat: Some(Stat::Max),
            }
        );
        assert_eq!(spec("fit:distance"), KeepSpec::Distance);
        assert_eq!(
            spec("fit:log1p_rmse:mou_arrivals:KOR"),
            KeepSpec::UnitFit {
                series: "mou_arrivals".into(),
                place: "KOR".into(),
                sex: Sex::Total
            }
        );
        assert!(parse("hidden_in_transit:CHN_NE:2010").unwrap().is_scalar());
        assert!(
            !parse("hidden_in_transit:CHN_NE:2000-2010")
                .unwrap()
                .is_scalar()
        );
        assert_eq!(parse(" a:B:sum ").unwrap().text, "a:B:sum");
    }

    #[test]
    fn syntax_errors_point_at_the_field() {
        let cases = [
            (
                "onward_departures",
                17,
                "expected `:PLACE` after the series",
            ),
            (
                "a:B:20x5",
                4,
                "expected a year or a range of years like 2005-2020, found \"20x5\"",
            ),
            ("a:B:2020-2005", 4, "FIRST <= LAST"),
            (
                "a:B:2010:total",
                9,
                "found the sex \"total\" after the years",
            ),
            ("a:B:2010-2012:sum:mean", 18, "expected one statistic"),
            (
                "a:B:2010:sum",
                9,
                "a statistic reduces a range of years, found one year (2010)",
            ),
            ("a:B:median", 4, "found \"median\""),
            ("a:B+:sum", 2, "expected a place id"),
            ("a b:B", 0, "expected a series name"),
            ("fit:rmse", 4, "expected fit:distance or fit:log1p_rmse"),
            ("fit:distance:x", 13, "expected nothing after fit:distance"),
            (
                "fit:log1p_rmse:a",
                16,
                "expected fit:log1p_rmse:SERIES:PLACE[:SEX]",
            ),
            ("", 0, "expected SERIES:PLACE"),
        ];
        for (text, offset, message) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.offset, offset, "{text}: {e}");
            assert!(e.message.contains(message), "{text}: {e}");
        }
    }

    #[test]
    fn stats_reduce_years() {
        let v = [3.0, 1.0, 2.0];
        assert_eq!(Stat::Sum.reduce(&v), 6.0);
        assert_eq!(Stat::Mean.reduce(&v), 2.0);
        assert_eq!(Stat::Min.reduce(&v), 1.0);
        assert_eq!(Stat::Max.reduce(&v), 3.0);
    }
}
