//! Simulated against observed: pairing each simulated series with its observed twin (same
//! series name, place, sex and year), fit metrics per series and place, and the one-number
//! distance that calibration minimises.
//!
//! The distance is the mean, over (series, place) units with an observed twin (sex `total`),
//! of the root mean squared difference of `ln(1 + x)` between simulated and observed values,
//! over the years both have; years the observed record lacks are skipped, never read as zero,
//! and a published 5 that stands for 1–5 counts as the interval [1, 5].
//!
//! A stock (people present at year end) is never paired with a flow (events in the year): a
//! series the run and the observed data measure differently is refused before pairing
//! ([`refuse_mismatched`]). `fit.csv` is rendered in [`table`].

pub mod metrics;
pub mod table;

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

/// Fit of one simulated series at one place (and sex) against its observed twin.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitFit {
    /// Series, place, sex.
    pub key: SeriesKey,
    /// The compared years.
    pub pairs: Vec<Pair>,
    /// RMSE of `ln(1 + x)`.
    pub log1p_rmse: Option<f64>,
    /// Mean `|ln(sim/obs)|` where both are positive.
    pub mean_abs_log_ratio: Option<f64>,
    /// Mean absolute scaled error.
    pub mase: Option<f64>,
    /// Σ (sim − obs).
    pub bias: f64,
    /// Share of observed points inside the simulated 90% band.
    pub coverage: Option<f64>,
}

impl UnitFit {
    /// Metrics of `pairs`.
    pub fn new(key: SeriesKey, pairs: Vec<Pair>) -> UnitFit {
        UnitFit {
            log1p_rmse: metrics::rmse(&pairs, Transform::Log1p),
            mean_abs_log_ratio: metrics::mean_abs_log_ratio(&pairs),
            mase: metrics::mase(&pairs),
            bias: metrics::bias(&pairs),
            coverage: metrics::coverage(&pairs),
            key,
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

/// The overall distance: mean log1p RMSE over units of sex `total`, each with equal weight.
pub fn distance(fits: &[UnitFit]) -> Option<f64> {
    let d: Vec<f64> = fits
        .iter()
        .filter(|f| f.key.sex == "total")
        .filter_map(|f| f.log1p_rmse)
        .collect();
    (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64)
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
