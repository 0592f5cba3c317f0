//! Untargeted checks: what the run says about data no calibration fits, each scored as a row
//! of `fit.csv` with its own [`Kind`]. Every simulated band here is made from the replicates
//! (`series.csv`), since a sum or a ratio of medians is not the median of the sum or ratio.
//!
//! - **Intervals** ([`intervals`]): each published estimate (`Observed::estimates`, e.g. people
//!   hiding in China, low–high) against the simulated series summed over the scenario's places
//!   in that country (every transit place with ISO3 `CHN` for `hidden_in_transit`). An estimate
//!   is *matched* when the simulated 90% band meets it (`coverage_90`); `log_gap` is the mean
//!   `ln(1 + x)` distance from band to interval over the estimates missed.
//! - **Host counts** ([`host_counts`]): the number of hosts with any (≥ 1) and with more than
//!   25 refugees plus asylum-seekers at year end — the shape of the source book's Figure 2.
//!   Observed from the stock table (`unhcr_refugees` + `unhcr_asylum_seekers`, sex total):
//!   place `MODELLED` counts only the countries the scenario models as hosts (like with like:
//!   the simulated `hosts_with_any` / `hosts_with_over_25` count those alone), place `ALL`
//!   every country in the table (the gap is what the model leaves out). A masked 5 makes the
//!   count an interval (it may be 1). Years: those in which the table has any row; a country
//!   without a row in a year counts as having none.
//! - **Female shares** ([`female_shares`]): for every series observed both by sex `female` and
//!   in `total` (the MOU arrivals), the female share per year, observed against the share
//!   computed replicate by replicate. Row `SERIES_female_share`, sex `female`.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use super::metrics::Pair;
use super::{Band, Kind, Replicates, UnitFit};
use crate::observed::{Estimate, Measure, Observed, SeriesKey};
use crate::output::quantile;
use crate::scenario::Scenario;

/// Thresholds of the host counts: (simulated series, more than this many people).
pub const HOST_COUNTS: [(&str, f64); 2] = [("hosts_with_any", 0.0), ("hosts_with_over_25", 25.0)];

/// Place label of a host count over the modelled hosts.
pub const MODELLED: &str = "MODELLED";
/// Place label of a host count over every country in the observed table.
pub const ALL: &str = "ALL";

/// Suffix of a female-share row's series name.
pub const FEMALE_SHARE: &str = "_female_share";

/// The scenario's places the checks need: id and ISO3 code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Places {
    /// Places with asylum (the hosts the simulated counts count).
    pub hosts: Vec<(String, Option<String>)>,
    /// Every place with its ISO3 code.
    pub all: Vec<(String, Option<String>)>,
}

impl Places {
    /// The places of a scenario.
    pub fn of(scenario: &Scenario) -> Places {
        let spec = &scenario.observation;
        let iso3 = |id: &str| scenario.raw.places.get(id).and_then(|p| p.iso3.clone());
        Places {
            hosts: spec
                .hosts
                .iter()
                .map(|&h| {
                    let id = &spec.place_ids[usize::from(h)];
                    (id.clone(), iso3(id))
                })
                .collect(),
            all: spec
                .place_ids
                .iter()
                .map(|id| (id.clone(), iso3(id)))
                .collect(),
        }
    }

    /// Whether observed place `place` (an ISO3 code or a place id) is a modelled host.
    fn is_host(&self, place: &str) -> bool {
        self.hosts
            .iter()
            .any(|(id, iso3)| id == place || iso3.as_deref() == Some(place))
    }

    /// Ids of the places in `country` (by ISO3 code, or the id itself).
    fn in_country<'a>(&'a self, country: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.all
            .iter()
            .filter(move |(id, iso3)| id == country || iso3.as_deref() == Some(country))
            .map(|(id, _)| id.as_str())
    }
}

/// Stock or flow of each check's rows, by series name.
pub fn measures(fits: &[UnitFit]) -> BTreeMap<String, Measure> {
    fits.iter()
        .filter(|f| f.kind != Kind::Series)
        .map(|f| {
            let m = if f.kind == Kind::Share {
                Measure::Flow
            } else {
                Measure::Stock
            };
            (f.key.series.clone(), m)
        })
        .collect()
}

fn key(series: &str, place: &str, sex: &str) -> SeriesKey {
    SeriesKey {
        series: series.into(),
        place: place.into(),
        sex: sex.into(),
    }
}

fn in_years(years: Option<&RangeInclusive<i32>>, y: i32) -> bool {
    years.is_none_or(|r| r.contains(&y))
}

/// Median and 90% band (type-7 quantiles, as `summary.csv`) of values; `None` if empty.
fn band(mut values: Vec<f64>) -> Option<Band> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(Band {
        p05: quantile(&values, 0.05),
        p50: quantile(&values, 0.5),
        p95: quantile(&values, 0.95),
    })
}

/// Per replicate, the sum of `series` over `places` in `year`; replicates missing a place are
/// left out.
fn summed(reps: &Replicates, series: &str, places: &[&str], year: i32) -> Vec<f64> {
    let per_place: Vec<&BTreeMap<u32, f64>> = places
        .iter()
        .filter_map(|p| reps.get(&key(series, p, "total"))?.get(&year))
        .collect();
    if per_place.len() != places.len() || places.is_empty() {
        return Vec::new();
    }
    per_place[0]
        .keys()
        .filter_map(|r| per_place.iter().map(|m| m.get(r)).sum::<Option<f64>>())
        .collect()
}

fn pair(year: i32, b: Band, obs: f64, obs_lower: f64) -> Pair {
    Pair {
        year,
        sim: b.p50,
        band: (b.p05, b.p95),
        obs,
        obs_lower,
    }
}

/// The simulated band of an estimate's series summed over the places in its country that
/// have the series; `None` if there are none or the run lacks the year.
fn estimate_band(reps: &Replicates, places: &Places, e: &Estimate) -> Option<Band> {
    let ids: Vec<&str> = places
        .in_country(&e.country)
        .filter(|id| reps.contains_key(&key(&e.series, id, "total")))
        .collect();
    band(summed(reps, &e.series, &ids, e.year))
}

/// Each published estimate against the simulated series summed over the places in its
/// country; one row per (series, country), its points in the estimates' order.
pub fn intervals(
    reps: &Replicates,
    obs: &Observed,
    places: &Places,
    years: Option<&RangeInclusive<i32>>,
) -> Vec<UnitFit> {
    let mut rows: BTreeMap<(String, String), Vec<Pair>> = BTreeMap::new();
    for e in &obs.estimates {
        if !in_years(years, e.year) {
            continue;
        }
        if let Some(b) = estimate_band(reps, places, e) {
            rows.entry((e.series.clone(), e.country.clone()))
                .or_default()
                .push(pair(e.year, b, e.high, e.low));
        }
    }
    rows.into_iter()
        .map(|((series, country), pairs)| {
            UnitFit::of_kind(key(&series, &country, "total"), Kind::Interval, pairs)
        })
        .collect()
}

/// The estimates [`intervals`] compares for `(series, country)`, in the order of its points.
pub fn estimates_compared<'a>(
    reps: &Replicates,
    obs: &'a Observed,
    places: &Places,
    years: Option<&RangeInclusive<i32>>,
    fit: &UnitFit,
) -> Vec<&'a Estimate> {
    obs.estimates
        .iter()
        .filter(|e| e.series == fit.key.series && e.country == fit.key.place)
        .filter(|e| in_years(years, e.year) && estimate_band(reps, places, e).is_some())
        .collect()
}

/// Observed refugees plus asylum-seekers by year and place: (published, lowest possible).
fn observed_hosts(obs: &Observed) -> BTreeMap<i32, BTreeMap<&str, (f64, f64)>> {
    let mut by_year: BTreeMap<i32, BTreeMap<&str, (f64, f64)>> = BTreeMap::new();
    for (k, series) in &obs.series {
        if !matches!(k.series.as_str(), "unhcr_refugees" | "unhcr_asylum_seekers")
            || k.sex != "total"
        {
            continue;
        }
        for (&y, p) in series {
            let e = by_year
                .entry(y)
                .or_default()
                .entry(k.place.as_str())
                .or_default();
            e.0 += p.value;
            e.1 += p.lower().max(0.0);
        }
    }
    by_year
}

/// The number of hosts with any and with more than 25 refugees or asylum-seekers, observed
/// among the modelled hosts (`MODELLED`) and among every country (`ALL`), against the
/// simulated counts of the modelled hosts.
pub fn host_counts(
    reps: &Replicates,
    obs: &Observed,
    places: &Places,
    years: Option<&RangeInclusive<i32>>,
) -> Vec<UnitFit> {
    let observed = observed_hosts(obs);
    let mut fits = Vec::new();
    for (series, threshold) in HOST_COUNTS {
        let Some(sim) = reps.get(&key(series, ALL, "total")) else {
            continue;
        };
        for (label, modelled_only) in [(MODELLED, true), (ALL, false)] {
            let pairs: Vec<Pair> = observed
                .iter()
                .filter(|&(&y, _)| in_years(years, y))
                .filter_map(|(&year, hosts)| {
                    let b = band(sim.get(&year)?.values().copied().collect())?;
                    let counted = hosts
                        .iter()
                        .filter(|(place, _)| !modelled_only || places.is_host(place));
                    let count = |f: fn(&(f64, f64)) -> f64| {
                        counted.clone().filter(|(_, v)| f(v) > threshold).count() as f64
                    };
                    Some(pair(year, b, count(|v| v.0), count(|v| v.1)))
                })
                .collect();
            if !pairs.is_empty() {
                fits.push(UnitFit::of_kind(
                    key(series, label, "total"),
                    Kind::Count,
                    pairs,
                ));
            }
        }
    }
    fits
}

/// The female share of every series observed by sex `female` and in `total`, by year.
pub fn female_shares(
    reps: &Replicates,
    obs: &Observed,
    years: Option<&RangeInclusive<i32>>,
) -> Vec<UnitFit> {
    let mut fits = Vec::new();
    for (k, female) in obs.series.iter().filter(|(k, _)| k.sex == "female") {
        let (Some(total), Some(sim_f), Some(sim_t)) = (
            obs.get(&k.series, &k.place, "total"),
            reps.get(k),
            reps.get(&key(&k.series, &k.place, "total")),
        ) else {
            continue;
        };
        let pairs: Vec<Pair> = female
            .iter()
            .filter(|&(&y, _)| in_years(years, y))
            .filter_map(|(&year, f)| {
                let t = total.get(&year).filter(|t| t.value > 0.0)?;
                let (sf, st) = (sim_f.get(&year)?, sim_t.get(&year)?);
                let shares = sf
                    .iter()
                    .filter_map(|(r, &f)| st.get(r).filter(|&&t| t > 0.0).map(|t| f / t))
                    .collect();
                let share = f.value / t.value;
                Some(pair(year, band(shares)?, share, share))
            })
            .collect();
        if !pairs.is_empty() {
            let series = format!("{}{FEMALE_SHARE}", k.series);
            fits.push(UnitFit::of_kind(
                key(&series, &k.place, "female"),
                Kind::Share,
                pairs,
            ));
        }
    }
    fits
}

/// Every check, in the order intervals, host counts, female shares.
pub fn all(
    reps: &Replicates,
    obs: &Observed,
    places: &Places,
    years: Option<&RangeInclusive<i32>>,
) -> Vec<UnitFit> {
    let mut fits = intervals(reps, obs, places, years);
    fits.extend(host_counts(reps, obs, places, years));
    fits.extend(female_shares(reps, obs, years));
    fits
}
