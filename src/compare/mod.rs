//! Simulated against observed: pairing each simulated series with its observed twin (same
//! series name, place, sex and year), fit metrics per series and place, the one-number
//! distance that calibration minimises, on every year or a year range ([`score`]), and the
//! untargeted checks ([`checks`]) and calibration targets ([`targets`]) that `fit.csv` reports.
//!
//! The distance is the mean, over (series, place) units with an observed twin (sex `total`),
//! of the root mean squared difference of `ln(1 + x)` between simulated and observed values,
//! over the years both have; years the observed record lacks are skipped, never read as zero,
//! and a published 5 that stands for 1–5 counts as the interval [1, 5].
//!
//! A stock (people present at year end) is never paired with a flow (events in the year): a
//! series the run and the observed data measure differently is refused before pairing
//! ([`refuse_mismatched`]). `fit.csv` is rendered in [`table`].

pub mod checks;
pub mod metrics;
pub mod table;
pub mod targets;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use metrics::{Pair, Transform};

use crate::observe::{Layout, ObservationSpec, Row};
use crate::observed::{Measure, Observed, Point, SeriesKey};
use crate::output::SummaryRow;

/// Stock or flow of every series a scenario declares.
pub fn declared_measures(spec: &ObservationSpec) -> BTreeMap<String, Measure> {
    spec.series
        .iter()
        .map(|s| {
            let m = if s.count.is_stock() {
                Measure::Stock
            } else {
                Measure::Flow
            };
            (s.name.clone(), m)
        })
        .collect()
}

/// A series measured one way in the run and another in the observed data: never paired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Series name.
    pub series: String,
    /// What the run counts.
    pub simulated: Measure,
    /// What the observed data counts.
    pub observed: Measure,
}

/// Removes from `obs` every series whose measure differs from the run's (`simulated`, by
/// series name) and says which. Series either side does not classify are kept.
pub fn refuse_mismatched(
    obs: &mut Observed,
    simulated: &BTreeMap<String, Measure>,
) -> Vec<Mismatch> {
    let mismatches: Vec<Mismatch> = obs
        .measures
        .iter()
        .filter_map(|(series, &observed)| {
            let &sim = simulated.get(series)?;
            (sim != observed).then(|| Mismatch {
                series: series.clone(),
                simulated: sim,
                observed,
            })
        })
        .collect();
    for m in &mismatches {
        obs.series.retain(|k, _| k.series != m.series);
    }
    mismatches
}

/// An origin asked for that is not the run's: the records of other people say nothing about
/// this run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--origin {requested}: the run's origin is {run} (its origin place's iso3); compare it with {run}'s records (leave out --origin)"
)]
pub struct OtherOrigin {
    /// What was asked for (upper case).
    pub requested: String,
    /// The run's origin.
    pub run: String,
}

/// The origin whose records a run is compared with: `requested` (any case) or, by default,
/// the run's origin place's ISO3 code (its id if it has none). Where the place has an ISO3
/// code, another origin is refused; without one, `requested` is how the records are chosen.
pub fn origin(
    iso3: Option<&str>,
    id: &str,
    requested: Option<&str>,
) -> Result<String, OtherOrigin> {
    let requested = requested.map(str::to_uppercase);
    match (iso3, requested) {
        (Some(run), Some(r)) if r != run => Err(OtherOrigin {
            requested: r,
            run: run.to_string(),
        }),
        (_, Some(r)) => Ok(r),
        (Some(run), None) => Ok(run.to_string()),
        (None, None) => Ok(id.to_string()),
    }
}

/// Simulated values of one series-place-sex in one year.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// 5th percentile across replicates.
    pub p05: f64,
    /// Median across replicates (the value compared).
    pub p50: f64,
    /// 95th percentile across replicates.
    pub p95: f64,
}

/// Simulated series by key and year.
pub type SimTable = BTreeMap<SeriesKey, BTreeMap<i32, Band>>;

fn key(layout: &Layout, row: &Row) -> SeriesKey {
    SeriesKey {
        series: layout.series[usize::from(row.series)].clone(),
        place: layout.places[usize::from(row.place)].clone(),
        sex: row.sex.name().to_string(),
    }
}

/// The table of a summarised ensemble (`summary.csv` rows).
pub fn from_summary(layout: &Layout, rows: &[SummaryRow]) -> SimTable {
    let mut t = SimTable::new();
    for r in rows {
        t.entry(key(layout, &r.key)).or_default().insert(
            r.key.year,
            Band {
                p05: r.p05,
                p50: r.p50,
                p95: r.p95,
            },
        );
    }
    t
}

/// The table of a single replicate (its band is the value itself).
pub fn from_replicate(layout: &Layout, rows: &[Row]) -> SimTable {
    let mut t = SimTable::new();
    for r in rows {
        let v = r.value;
        t.entry(key(layout, r)).or_default().insert(
            r.year,
            Band {
                p05: v,
                p50: v,
                p95: v,
            },
        );
    }
    t
}

/// Simulated values by key, year and replicate (a run's `series.csv`).
pub type Replicates = BTreeMap<SeriesKey, BTreeMap<i32, BTreeMap<u32, f64>>>;

/// The table of a run's replicates (`series.csv` rows).
pub fn from_series(layout: &Layout, rows: &[(u32, Row)]) -> Replicates {
    let mut t = Replicates::new();
    for (rep, r) in rows {
        t.entry(key(layout, r))
            .or_default()
            .entry(r.year)
            .or_default()
            .insert(*rep, r.value);
    }
    t
}

/// Year-by-year pairs where both sides have a value, optionally within `years`.
pub fn pairs(
    sim: &BTreeMap<i32, Band>,
    obs: &BTreeMap<i32, Point>,
    years: Option<&RangeInclusive<i32>>,
) -> Vec<Pair> {
    obs.iter()
        .filter(|(y, _)| years.is_none_or(|r| r.contains(y)))
        .filter_map(|(&year, o)| {
            sim.get(&year).map(|b| Pair {
                year,
                sim: b.p50,
                band: (b.p05, b.p95),
                obs: o.value,
                obs_lower: o.lower().max(0.0),
            })
        })
        .collect()
}

/// What a row of `fit.csv` compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A simulated series against its observed twin, year by year (what calibration fits and
    /// the distance averages).
    #[default]
    Series,
    /// Published estimates, each an interval, against the simulated 90% band.
    Interval,
    /// The number of hosts with refugees or asylum-seekers (any, or more than 25).
    Count,
    /// The female share of a flow observed by sex.
    Share,
}

impl Kind {
    /// `series`, `interval`, `count` or `share`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Series => "series",
            Kind::Interval => "interval",
            Kind::Count => "count",
            Kind::Share => "share",
        }
    }
}

/// Fit of one simulated unit (series, place, sex) against its observed twin: every metric of a
/// row of `fit.csv`, in one place.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitFit {
    /// Series, place, sex.
    pub key: SeriesKey,
    /// What is compared.
    pub kind: Kind,
    /// Whether the calibration behind the run used these data; `None` when nothing says.
    pub targeted: Option<bool>,
    /// The compared points (years; for intervals, estimates).
    pub pairs: Vec<Pair>,
    /// RMSE of `ln(1 + x)`.
    pub log1p_rmse: Option<f64>,
    /// Mean `|ln(sim/obs)|` where both are positive.
    pub mean_abs_log_ratio: Option<f64>,
    /// Mean absolute scaled error (`None` for intervals).
    pub mase: Option<f64>,
    /// Mean absolute error on the values' own scale.
    pub mae: Option<f64>,
    /// Σ (sim − obs); for intervals, Σ (sim − the interval's nearest end).
    pub bias: f64,
    /// Share of observed points inside the simulated 90% band.
    pub coverage: Option<f64>,
    /// Mean `ln(1 + x)` distance from the band to the observed points it misses.
    pub log_gap: Option<f64>,
}

impl UnitFit {
    /// Metrics of `pairs` of a series against its observed twin.
    pub fn new(key: SeriesKey, pairs: Vec<Pair>) -> UnitFit {
        UnitFit::of_kind(key, Kind::Series, pairs)
    }

    /// Metrics of `pairs` of the given kind (an interval has no MASE and its bias is measured
    /// to its nearest end).
    pub fn of_kind(key: SeriesKey, kind: Kind, pairs: Vec<Pair>) -> UnitFit {
        let interval = kind == Kind::Interval;
        UnitFit {
            log1p_rmse: metrics::rmse(&pairs, Transform::Log1p),
            mean_abs_log_ratio: metrics::mean_abs_log_ratio(&pairs),
            mase: if interval {
                None
            } else {
                metrics::mase(&pairs)
            },
            mae: metrics::mae(&pairs),
            bias: if interval {
                metrics::bias_to_interval(&pairs)
            } else {
                metrics::bias(&pairs)
            },
            coverage: metrics::coverage(&pairs),
            log_gap: metrics::log_gap(&pairs),
            key,
            kind,
            targeted: None,
            pairs,
        }
    }
}

/// Fits every simulated series that has an observed twin, in key order.
pub fn fit(sim: &SimTable, obs: &Observed, years: Option<&RangeInclusive<i32>>) -> Vec<UnitFit> {
    sim.iter()
        .filter_map(|(k, s)| {
            let o = obs.series.get(k)?;
            let p = pairs(s, o, years);
            (!p.is_empty()).then(|| UnitFit::new(k.clone(), p))
        })
        .collect()
}

/// A year range that cannot be scored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum YearsError {
    /// `A:B` with `A > B`.
    #[error("the first year ({first}) is after the last ({last})")]
    Reversed {
        /// First year.
        first: i32,
        /// Last year.
        last: i32,
    },
    /// No observed year of any unit with a simulated twin lies in the range.
    #[error("no observed year in {first}–{last}{}", .observed.map_or_else(String::new, |(a, b)| format!(" (observed and simulated: {a}–{b})")))]
    NoObservedYear {
        /// First year.
        first: i32,
        /// Last year.
        last: i32,
        /// First and last year compared without the filter.
        observed: Option<(i32, i32)>,
    },
    /// Not `FIRST:LAST`.
    #[error("expected FIRST:LAST (two years, e.g. 2016:2019), found \"{0}\"")]
    Syntax(String),
}

/// Parses `A:B` (a single year `A` is `A:A`).
pub fn parse_years(text: &str) -> Result<RangeInclusive<i32>, YearsError> {
    let syntax = || YearsError::Syntax(text.to_string());
    let (a, b) = text.split_once(':').unwrap_or((text, text));
    let year = |s: &str| s.trim().parse::<i32>().map_err(|_| syntax());
    let (first, last) = (year(a)?, year(b)?);
    if first > last {
        return Err(YearsError::Reversed { first, last });
    }
    Ok(first..=last)
}

/// Fits every simulated series with an observed twin on `years` only (all years if `None`): the
/// year filter of `diaspora compare --years` and of a held-out score. A reversed range, or one
/// in which no unit has an observed and simulated year, is refused.
pub fn score(
    sim: &SimTable,
    obs: &Observed,
    years: Option<RangeInclusive<i32>>,
) -> Result<Vec<UnitFit>, YearsError> {
    let Some(range) = years else {
        return Ok(fit(sim, obs, None));
    };
    let (first, last) = (*range.start(), *range.end());
    if first > last {
        return Err(YearsError::Reversed { first, last });
    }
    let fits = fit(sim, obs, Some(&range));
    if fits.is_empty() {
        let all = fit(sim, obs, None);
        let years: Vec<i32> = all
            .iter()
            .flat_map(|f| f.pairs.iter().map(|p| p.year))
            .collect();
        let observed = years.iter().min().copied().zip(years.iter().max().copied());
        return Err(YearsError::NoObservedYear {
            first,
            last,
            observed,
        });
    }
    Ok(fits)
}

/// The overall distance: mean log1p RMSE over series units (not the untargeted checks) of sex
/// `total`, each with equal weight.
pub fn distance(fits: &[UnitFit]) -> Option<f64> {
    let d: Vec<f64> = fits
        .iter()
        .filter(|f| f.kind == Kind::Series && f.key.sex == "total")
        .filter_map(|f| f.log1p_rmse)
        .collect();
    (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64)
}

/// Observed unit-years inside the simulated 90% band, pooled over the series units of `fits`
/// (every sex) that `keep` selects: `(covered, compared)`.
pub fn pooled_coverage(fits: &[UnitFit], keep: impl Fn(&UnitFit) -> bool) -> (usize, usize) {
    fits.iter()
        .filter(|f| f.kind == Kind::Series && keep(f))
        .flat_map(|f| &f.pairs)
        .fold((0, 0), |(c, n), p| {
            (c + usize::from(metrics::covered(p)), n + 1)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(series: &str, sex: &str) -> SeriesKey {
        SeriesKey {
            series: series.into(),
            place: "X".into(),
            sex: sex.into(),
        }
    }

    #[test]
    fn pooled_coverage_counts_unit_years_by_hand() {
        let pair = |year, obs, obs_lower, band: (f64, f64)| Pair {
            year,
            sim: band.0,
            band,
            obs,
            obs_lower,
        };
        // Unit a: 2 of 3 inside (a masked 1-5 cell meets a band of 4-9); unit b: 1 of 2.
        let mut a = UnitFit::new(
            k("a", "total"),
            vec![
                pair(2000, 10.0, 10.0, (8.0, 12.0)),
                pair(2001, 20.0, 20.0, (8.0, 12.0)),
                pair(2002, 5.0, 1.0, (4.0, 9.0)),
            ],
        );
        a.targeted = Some(true);
        let b = UnitFit::new(
            k("b", "female"),
            vec![
                pair(2000, 3.0, 3.0, (3.0, 3.0)),
                pair(2001, 0.0, 0.0, (1.0, 2.0)),
            ],
        );
        let fits = [a, b];
        assert_eq!(pooled_coverage(&fits, |_| true), (3, 5));
        assert_eq!(pooled_coverage(&fits, |f| f.targeted == Some(true)), (2, 3));
        assert_eq!(pooled_coverage(&fits, |f| f.targeted.is_none()), (1, 2));
    }

    #[test]
    fn pairs_skip_missing_years_and_distance_weights_units_equally() {
        let mut sim = SimTable::new();
        let band = |v| Band {
            p05: v,
            p50: v,
            p95: v,
        };
        sim.insert(
            k("a", "total"),
            [(2000, band(0.0)), (2001, band(e1())), (2002, band(9.0))].into(),
        );
        sim.insert(k("b", "total"), [(2000, band(3.0))].into());
        sim.insert(k("a", "female"), [(2000, band(100.0))].into());
        let mut obs = Observed::default();
        obs.add(k("a", "total"), 2000, 0.0, false); // error 0
        obs.add(k("a", "total"), 2001, 0.0, false); // error 1 (ln(1+e-1) = 1)
        obs.add(k("b", "total"), 2000, 5.0, true); // masked: 3 is inside [1, 5]
        obs.add(k("a", "female"), 2000, 0.0, false); // not in the distance
        let fits = fit(&sim, &obs, None);
        assert_eq!(fits.len(), 3);
        let a = fits.iter().find(|f| f.key == k("a", "total")).unwrap();
        assert_eq!(a.pairs.len(), 2, "2002 is not observed: skipped, not zero");
        assert!((a.log1p_rmse.unwrap() - (0.5f64).sqrt()).abs() < 1e-12);
        let d = distance(&fits).unwrap();
        assert!((d - (0.5f64.sqrt() + 0.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_origin_is_the_runs_unless_its_place_has_no_iso3() {
        assert_eq!(origin(Some("PRK"), "ORG", None), Ok("PRK".into()));
        assert_eq!(origin(Some("PRK"), "ORG", Some("prk")), Ok("PRK".into()));
        assert_eq!(
            origin(Some("PRK"), "ORG", Some("eri")),
            Err(OtherOrigin {
                requested: "ERI".into(),
                run: "PRK".into()
            })
        );
        assert_eq!(origin(None, "ORG", None), Ok("ORG".into()));
        assert_eq!(origin(None, "ORG", Some("eri")), Ok("ERI".into()));
    }

    #[test]
    fn a_stock_is_never_paired_with_a_flow() {
        let mut obs = Observed::default();
        obs.add(k("stock_here", "total"), 2000, 7.0, false);
        obs.add(k("same", "total"), 2000, 7.0, false);
        obs.add(k("unclassified", "total"), 2000, 7.0, false);
        obs.measures.insert("stock_here".into(), Measure::Stock);
        obs.measures.insert("same".into(), Measure::Flow);
        let sim: BTreeMap<String, Measure> = [
            ("stock_here".to_string(), Measure::Flow),
            ("same".to_string(), Measure::Flow),
            ("unclassified".to_string(), Measure::Stock),
        ]
        .into();
        let refused = refuse_mismatched(&mut obs, &sim);
        assert_eq!(
            refused,
            vec![Mismatch {
                series: "stock_here".into(),
                simulated: Measure::Flow,
                observed: Measure::Stock
            }]
        );
        assert!(obs.get("stock_here", "X", "total").is_none());
        assert!(obs.get("same", "X", "total").is_some());
        assert!(obs.get("unclassified", "X", "total").is_some());
    }

    fn e1() -> f64 {
        std::f64::consts::E - 1.0
    }
}
