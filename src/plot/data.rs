//! What the figures show, computed from a run's files (the rows of `series.csv`, the declared
//! series of its `scenario.toml`) and the observed record; no drawing here.
//!
//! Sums over places (applications in all reporting hosts, refugees plus asylum-seekers, people
//! hiding in all transit places) are taken replicate by replicate before the median and the
//! 90% band are computed, so a band is the band of the sum, not a sum of bands.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::compare::Band;
use crate::observe::{Count, Layout, ObservationSpec, Row, Sex};
use crate::observed::{Measure, Observed, Point};
use crate::output::quantile;
use crate::plot::scale::Choice;

/// Seed Figure 2's threshold: a host is dark if its stock exceeded this in at least one year.
pub const SUSTAINED: f64 = 25.0;

/// Most hosts shown as panels in the host figure.
pub const MAX_MAIN_HOSTS: usize = 6;

/// Most places drawn one by one under an unobservable's total.
pub const MAX_PLACES: usize = 5;

/// Most places given their own row in the host × year figure; the rest are summed into one
/// "others" row (a figure of a hundred rows cannot be read).
pub const MAX_HEAT_ROWS: usize = 25;

/// A simulated band per year.
pub type Bands = BTreeMap<i32, Band>;

/// Observed values per year, each with its count of masked cells (a published 5 that means
/// 1 to 5): drawn as the interval `[lower, value]`, as `compare` reads it.
pub type Points = BTreeMap<i32, Point>;

/// The y axis's description of a series of `measure`: stocks and flows are never on one axis.
pub fn unit(measure: Measure) -> &'static str {
    match measure {
        Measure::Stock => "people at year end",
        Measure::Flow => "people per year",
    }
}

fn measure(count: Count) -> Measure {
    if count.is_stock() {
        Measure::Stock
    } else {
        Measure::Flow
    }
}

/// The rows of `series.csv` (sex `total`), indexed for sums over places.
pub struct Replicates {
    /// Replicates in the run.
    pub count: usize,
    /// `(series, place)` → year → value per replicate.
    values: HashMap<(String, String), BTreeMap<i32, Vec<f64>>>,
}

impl Replicates {
    /// Indexes `(replicate, row)` pairs as read from `series.csv`.
    pub fn new(layout: &Layout, rows: &[(u32, Row)]) -> Replicates {
        let count = rows.iter().map(|(r, _)| *r as usize + 1).max().unwrap_or(0);
        let mut values: HashMap<(String, String), BTreeMap<i32, Vec<f64>>> = HashMap::new();
        for (rep, row) in rows.iter().filter(|(_, r)| r.sex == Sex::Total) {
            let key = (
                layout.series[usize::from(row.series)].clone(),
                layout.places[usize::from(row.place)].clone(),
            );
            values
                .entry(key)
                .or_default()
                .entry(row.year)
                .or_insert_with(|| vec![0.0; count])[*rep as usize] += row.value;
        }
        Replicates { count, values }
    }

    /// Places reported for `series`, sorted.
    pub fn places(&self, series: &str) -> Vec<String> {
        let set: BTreeSet<&String> = self
            .values
            .keys()
            .filter(|(s, _)| s == series)
            .map(|(_, p)| p)
            .collect();
        set.into_iter().cloned().collect()
    }

    /// Per-replicate sums of `series` over `places` (every place where empty), per year.
    fn sums(&self, series: &[&str], places: Option<&[String]>) -> BTreeMap<i32, Vec<f64>> {
        let mut out: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
        for ((s, p), years) in &self.values {
            if !series.contains(&s.as_str()) || places.is_some_and(|ps| !ps.contains(p)) {
                continue;
            }
            for (&y, v) in years {
                let sum = out.entry(y).or_insert_with(|| vec![0.0; self.count]);
                sum.iter_mut().zip(v).for_each(|(a, b)| *a += b);
            }
        }
        out
    }

    /// The median and 90% band of the sum of `series` over `places` (all places if `None`).
    pub fn band(&self, series: &[&str], places: Option<&[String]>) -> Bands {
        self.sums(series, places)
            .into_iter()
            .map(|(y, mut v)| {
                v.sort_by(f64::total_cmp);
                let b = Band {
                    p05: quantile(&v, 0.05),
                    p50: quantile(&v, 0.5),
                    p95: quantile(&v, 0.95),
                };
                (y, b)
            })
            .collect()
    }
}

/// The sum over `places` (every observed place if `None`) of the observed `series`, per year
/// in which at least one of them reported.
pub fn observed_sum(
    obs: &Observed,
    series: &[&str],
    places: Option<&[String]>,
) -> BTreeMap<i32, Point> {
    let mut out: BTreeMap<i32, Point> = BTreeMap::new();
    for (k, years) in &obs.series {
        if k.sex != "total"
            || !series.contains(&k.series.as_str())
            || places.is_some_and(|ps| !ps.contains(&k.place))
        {
            continue;
        }
        for (&y, p) in years {
            let e = out.entry(y).or_insert(Point {
                value: 0.0,
                masked_cells: 0,
            });
            e.value += p.value;
            e.masked_cells += p.masked_cells;
        }
    }
    out
}

/// The names of the declared series the figures need.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Arrivals in the resettlement country: (series, place).
    pub arrivals: Option<(String, String)>,
    /// Asylum applications.
    pub applications: Option<String>,
    /// Refugee stock.
    pub refugees: Option<String>,
    /// Asylum-seeker stock.
    pub asylum_seekers: Option<String>,
    /// Departures from hosts (a declared `host_departures` series), if any.
    pub host_departures: Option<String>,
    /// Whether the scenario has a resettlement place at all.
    pub has_resettlement: bool,
}

impl Names {
    /// The first declared series of each kind; arrivals must be counted at a resettlement place.
    pub fn of(spec: &ObservationSpec) -> Names {
        use crate::engine::PlaceKind;
        let first = |c: Count| spec.series.iter().find(|s| s.count == c);
        let arrivals = spec
            .series
            .iter()
            .filter(|s| s.count == Count::Arrivals)
            .find_map(|s| {
                s.places
                    .iter()
                    .find(|&&p| spec.kinds[usize::from(p)] == PlaceKind::Resettlement)
                    .map(|&p| (s.name.clone(), spec.place_ids[usize::from(p)].clone()))
            });
        Names {
            arrivals,
            applications: first(Count::Applications).map(|s| s.name.clone()),
            refugees: first(Count::Refugees).map(|s| s.name.clone()),
            asylum_seekers: first(Count::AsylumSeekers).map(|s| s.name.clone()),
            host_departures: first(Count::HostDepartures).map(|s| s.name.clone()),
            has_resettlement: spec.kinds.contains(&PlaceKind::Resettlement),
        }
    }

    fn stocks(&self) -> Vec<&str> {
        [&self.refugees, &self.asylum_seekers]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// One simulated quantity with its observed twin.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// Stock or flow, from the series' declared count: decides the axis it is drawn on.
    pub measure: Measure,
    /// Simulated median and band.
    pub sim: Bands,
    /// Observed points.
    pub obs: Points,
    /// Further observed points with their own label (e.g. all countries, not only modelled).
    pub obs_extra: Option<(String, Points)>,
}

/// Figure 1: arrivals in the resettlement country (if the scenario has one) and asylum
/// applications in reporting hosts.
#[derive(Clone, Debug)]
pub struct ArrivalsFigure {
    /// Title, naming only what the lines show.
    pub title: String,
    /// Arrivals, then applications (either may be missing from a scenario).
    pub lines: Vec<Line>,
}

/// One row of the heatmap.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatRow {
    /// Place, or for the others row its label (e.g. `75 others`).
    pub place: String,
    /// Refugees plus asylum-seekers per year of the run (absent: not reported).
    pub values: BTreeMap<i32, f64>,
    /// Places summed into this row: 0 for a place's own row.
    pub folded: usize,
}

impl HeatRow {
    /// Seed Figure 2's shading: more than 25 in at least one year.
    pub fn sustained(&self) -> bool {
        self.values.values().any(|&v| v > SUSTAINED)
    }
}

/// Figure 2: host × year presence, observed and simulated, on the same rows.
#[derive(Clone, Debug)]
pub struct HeatmapFigure {
    /// Row labels from the top: the [`MAX_HEAT_ROWS`] largest places (observed peak in the run's
    /// years, or the simulated peak for a place the record does not name), then the others
    /// row if places were folded into it.
    pub rows: Vec<String>,
    /// Observed rows, a subset of `rows` in the same order (the others row sums the folded
    /// places' observed values year by year).
    pub observed: Vec<HeatRow>,
    /// Simulated rows (median across replicates), a subset of `rows` in the same order (the
    /// others row is the median of each replicate's sum over the folded places).
    pub simulated: Vec<HeatRow>,
    /// Places folded into the others row, largest first (empty: every place has its row).
    pub folded: Vec<String>,
}

/// Figure 3: one panel per main host.
#[derive(Clone, Debug)]
pub struct HostsFigure {
    /// (place, refugee stock, applications if the scenario declares them).
    pub hosts: Vec<(String, Line, Option<Line>)>,
}

/// One unobservable: its total, and the median of each place.
#[derive(Clone, Debug)]
pub struct Unobservable {
    /// Panel title.
    pub title: String,
    /// Stock (hiding at year end) or flow (the others, per year).
    pub measure: Measure,
    /// Total over places.
    pub total: Bands,
    /// Median per place, for the places with the most in total (at most [`MAX_PLACES`]).
    pub by_place: Vec<(String, BTreeMap<i32, f64>)>,
}

/// Figure 4: the unobservables.
#[derive(Clone, Debug)]
pub struct UnobservablesFigure {
    /// Hiding in transit and repatriations (if the scenario has transit places), onward
    /// departures from the resettlement country (if it has one), departures from hosts (if it
    /// declares them); never a panel the scenario's structure leaves empty.
    pub panels: Vec<Unobservable>,
}

/// Everything the figures show.
#[derive(Clone, Debug)]
pub struct PlotData {
    /// "scenario baseline, seed 20240601, 20 replicates; observed: data/observed, origin PRK"
    pub run_label: String,
    /// Replicates in the run.
    pub replicates: usize,
    /// Posterior-predictive runs: the number of parameter sets drawn from the posterior (each
    /// replicate simulates one), `None` for a run at fixed parameters.
    pub predictive_draws: Option<u32>,
    /// Linear or logarithmic y axes of the time charts (automatic: per panel).
    pub y_scale: Choice,
    /// Place names by id (for panel captions).
    pub place_names: BTreeMap<String, String>,
    /// First and last simulated year.
    pub years: (i32, i32),
    /// Figure 1.
    pub arrivals: ArrivalsFigure,
    /// Figure 2.
    pub heatmap: HeatmapFigure,
    /// Figure 3.
    pub hosts: HostsFigure,
    /// Figure 4.
    pub unobservables: UnobservablesFigure,
}

impl PlotData {
    /// Computes the figures' data; `place_names` maps place ids to names for captions.
    pub fn new(
        run_label: String,
        place_names: BTreeMap<String, String>,
        spec: &ObservationSpec,
        reps: &Replicates,
        obs: &Observed,
    ) -> PlotData {
        let names = Names::of(spec);
        let years = reps
            .values
            .values()
            .flat_map(|y| y.keys().copied())
            .fold((i32::MAX, i32::MIN), |(a, b), y| (a.min(y), b.max(y)));
        PlotData {
            run_label,
            replicates: reps.count,
            predictive_draws: None,
            y_scale: Choice::Auto,
            place_names,
            years,
            arrivals: arrivals(&names, reps, obs),
            heatmap: heatmap(&names, reps, obs, years),
            hosts: hosts(&names, reps, obs, years),
            unobservables: unobservables(&names, reps),
        }
    }
}

fn arrivals(names: &Names, reps: &Replicates, obs: &Observed) -> ArrivalsFigure {
    let mut lines = Vec::new();
    if let Some((series, place)) = &names.arrivals {
        let p = std::slice::from_ref(place);
        lines.push(Line {
            label: format!("arrivals in {place} ({series})"),
            measure: measure(Count::Arrivals),
            sim: reps.band(&[series], Some(p)),
            obs: observed_sum(obs, &[series], Some(p)),
            obs_extra: None,
        });
    }
    if let Some(series) = &names.applications {
        let hosts = reps.places(series);
        lines.push(Line {
            label: format!("asylum applications in {} modelled hosts", hosts.len()),
            measure: measure(Count::Applications),
            sim: reps.band(&[series], Some(&hosts)),
            obs: observed_sum(obs, &[series], Some(&hosts)),
            obs_extra: Some((
                "observed, all reporting countries".to_string(),
                observed_sum(obs, &[series], None),
            )),
        });
    }
    let title = match (&names.arrivals, &names.applications) {
        (Some(_), Some(_)) => {
            "Arrivals in the resettlement country and asylum applications elsewhere"
        }
        (Some(_), None) => "Arrivals in the resettlement country",
        (None, Some(_)) => {
            "Asylum applications in the modelled hosts and in all reporting countries"
        }
        (None, None) => "No arrivals in a resettlement country or asylum applications declared",
    };
    ArrivalsFigure {
        title: title.to_string(),
        lines,
    }
}

/// Refugees plus asylum-seekers per observed place and year, in the run's `years` only (a
/// record that starts decades before the run must not rank hosts by what it saw then).
fn observed_stocks(
    names: &Names,
    obs: &Observed,
    (first, last): (i32, i32),
) -> BTreeMap<String, BTreeMap<i32, f64>> {
    let stocks = names.stocks();
    let mut out: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    for (k, years) in &obs.series {
        if k.sex == "total" && stocks.contains(&k.series.as_str()) {
            let row = out.entry(k.place.clone()).or_default();
            for (&y, p) in years.range(first..=last) {
                *row.entry(y).or_default() += p.value;
            }
        }
    }
    out.retain(|_, row| !row.is_empty());
    out
}

fn peak(values: &BTreeMap<i32, f64>) -> f64 {
    values.values().copied().fold(0.0, f64::max)
}

fn heatmap(names: &Names, reps: &Replicates, obs: &Observed, years: (i32, i32)) -> HeatmapFigure {
    let stocks = names.stocks();
    let observed = observed_stocks(names, obs, years);
    let median = |places: &[String]| -> BTreeMap<i32, f64> {
        reps.band(&stocks, Some(places))
            .into_iter()
            .map(|(y, b)| (y, b.p50))
            .collect()
    };
    let simulated: BTreeMap<String, BTreeMap<i32, f64>> = stocks
        .iter()
        .flat_map(|s| reps.places(s))
        .collect::<BTreeSet<String>>()
        .into_iter()
        .map(|place| {
            let values = median(std::slice::from_ref(&place));
            (place, values)
        })
        .collect();
    // One ranking for both panels: a place's size is its observed peak, or its simulated
    // peak where the record does not name it.
    let size = |p: &String| {
        observed
            .get(p)
            .or_else(|| simulated.get(p))
            .map_or(0.0, peak)
    };
    let mut places: Vec<String> = observed.keys().chain(simulated.keys()).cloned().collect();
    places.sort_by(|a, b| size(b).total_cmp(&size(a)).then(a.cmp(b)));
    places.dedup();
    // Folding a single place would hide it behind a label as long as its own.
    let folded = if places.len() > MAX_HEAT_ROWS + 1 {
        places.split_off(MAX_HEAT_ROWS)
    } else {
        Vec::new()
    };
    let row = |place: &String, values: &BTreeMap<i32, f64>| HeatRow {
        place: place.clone(),
        values: values.clone(),
        folded: 0,
    };
    let mut obs_rows: Vec<HeatRow> = places
        .iter()
        .filter_map(|p| observed.get(p).map(|v| row(p, v)))
        .collect();
    let mut sim_rows: Vec<HeatRow> = places
        .iter()
        .filter_map(|p| simulated.get(p).map(|v| row(p, v)))
        .collect();
    let mut rows = places;
    if !folded.is_empty() {
        let label = format!("{} others", folded.len());
        let others = |values: BTreeMap<i32, f64>| HeatRow {
            place: label.clone(),
            values,
            folded: folded.len(),
        };
        let mut obs_sum: BTreeMap<i32, f64> = BTreeMap::new();
        for v in folded.iter().filter_map(|p| observed.get(p)) {
            for (&y, &x) in v {
                *obs_sum.entry(y).or_default() += x;
            }
        }
        if !obs_sum.is_empty() {
            obs_rows.push(others(obs_sum));
        }
        let sim_folded: Vec<String> = folded
            .iter()
            .filter(|p| simulated.contains_key(*p))
            .cloned()
            .collect();
        if !sim_folded.is_empty() {
            sim_rows.push(others(median(&sim_folded)));
        }
        rows.push(label);
    }
    HeatmapFigure {
        rows,
        observed: obs_rows,
        simulated: sim_rows,
        folded,
    }
}

fn hosts(names: &Names, reps: &Replicates, obs: &Observed, years: (i32, i32)) -> HostsFigure {
    let (Some(refugees), applications) = (&names.refugees, &names.applications) else {
        return HostsFigure { hosts: Vec::new() };
    };
    let observed = observed_stocks(names, obs, years);
    // Main hosts as the seed's Figure 2 sees them, in the run's years: most years with more
    // than 25 refugees and asylum-seekers, then most person-years.
    let rank = |p: &String| {
        observed.get(p).map_or((0, 0.0), |v| {
            (
                v.values().filter(|&&x| x > SUSTAINED).count(),
                v.values().sum::<f64>(),
            )
        })
    };
    let mut hosts = reps.places(refugees);
    hosts.sort_by(|a, b| {
        let (ya, sa) = rank(a);
        let (yb, sb) = rank(b);
        yb.cmp(&ya).then(sb.total_cmp(&sa)).then(a.cmp(b))
    });
    hosts.truncate(MAX_MAIN_HOSTS);
    let line = |series: &str, count: Count, label: &str, place: &String| {
        let p = std::slice::from_ref(place);
        Line {
            label: label.to_string(),
            measure: measure(count),
            sim: reps.band(&[series], Some(p)),
            obs: observed_sum(obs, &[series], Some(p)),
            obs_extra: None,
        }
    };
    let hosts = hosts
        .iter()
        .map(|h| {
            let apps = applications
                .as_deref()
                .map(|a| line(a, Count::Applications, "asylum applications", h));
            let stock = line(refugees, Count::Refugees, "refugees", h);
            (h.clone(), stock, apps)
        })
        .collect();
    HostsFigure { hosts }
}

fn unobservables(names: &Names, reps: &Replicates) -> UnobservablesFigure {
    let panel = |series: &str, title: &str, measure: Measure| {
        let places = reps.places(series);
        if places.is_empty() {
            return None;
        }
        let total = |m: &BTreeMap<i32, f64>| m.values().sum::<f64>();
        let mut by_place: Vec<(String, BTreeMap<i32, f64>)> = places
            .iter()
            .map(|p| {
                let med = reps
                    .band(&[series], Some(std::slice::from_ref(p)))
                    .into_iter()
                    .map(|(y, b)| (y, b.p50))
                    .collect();
                (p.clone(), med)
            })
            .filter(|(_, med)| total(med) > 0.0)
            .collect();
        by_place.sort_by(|a, b| total(&b.1).total_cmp(&total(&a.1)).then(a.0.cmp(&b.0)));
        by_place.truncate(MAX_PLACES);
        Some(Unobservable {
            title: title.to_string(),
            measure,
            total: reps.band(&[series], None),
            by_place,
        })
    };
    let mut panels = vec![
        panel(
            "hidden_in_transit",
            "People hiding in transit places",
            Measure::Stock,
        ),
        panel(
            "repatriations",
            "Repatriations to the origin",
            Measure::Flow,
        ),
    ];
    if names.has_resettlement {
        panels.push(panel(
            "onward_departures",
            "Onward departures from the resettlement country",
            Measure::Flow,
        ));
    }
    if let Some(series) = &names.host_departures {
        panels.push(panel(series, "Departures from hosts", Measure::Flow));
    }
    UnobservablesFigure {
        panels: panels.into_iter().flatten().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::SeriesKey;

    fn layout() -> Layout {
        Layout {
            series: vec!["a".into(), "b".into()],
            places: vec!["P".into(), "Q".into()],
        }
    }

    fn row(year: i32, series: u16, place: u16, value: f64) -> Row {
        Row {
            year,
            series,
            place,
            sex: Sex::Total,
            value,
        }
    }

    #[test]
    fn a_band_of_a_sum_is_taken_over_replicate_sums() {
        // Replicate 0: P=1, Q=9; replicate 1: P=9, Q=1; replicate 2: P=5, Q=5. The sums are all
        // 10, so the band of the sum is [10, 10] although each place's band is wide.
        let rows: Vec<(u32, Row)> = [(1.0, 9.0), (9.0, 1.0), (5.0, 5.0)]
            .iter()
            .enumerate()
            .flat_map(|(r, &(p, q))| {
                [
                    (r as u32, row(2000, 0, 0, p)),
                    (r as u32, row(2000, 0, 1, q)),
                ]
            })
            .collect();
        let reps = Replicates::new(&layout(), &rows);
        assert_eq!(reps.count, 3);
        let all = reps.band(&["a"], None)[&2000];
        assert_eq!((all.p05, all.p50, all.p95), (10.0, 10.0, 10.0));
        let p = reps.band(&["a"], Some(&["P".to_string()]))[&2000];
        assert_eq!(p.p50, 5.0);
        assert!((p.p05 - 1.4).abs() < 1e-12 && (p.p95 - 8.6).abs() < 1e-12);
        assert!(reps.band(&["b"], None).is_empty());
    }

    #[test]
    fn observed_sums_count_reporting_places_only() {
        let mut obs = Observed::default();
        let key = |place: &str| SeriesKey {
            series: "a".into(),
            place: place.into(),
            sex: "total".into(),
        };
        obs.add(key("P"), 2000, 5.0, true);
        obs.add(key("Q"), 2000, 10.0, false);
        obs.add(key("Q"), 2001, 0.0, false);
        let all = observed_sum(&obs, &["a"], None);
        assert_eq!(all[&2000].value, 15.0);
        assert_eq!(all[&2000].masked_cells, 1);
        assert_eq!(all[&2001].value, 0.0);
        assert!(!all.contains_key(&2002), "no report: absent, not zero");
        let p = observed_sum(&obs, &["a"], Some(&["P".to_string()]));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn sustained_is_above_25_in_some_year() {
        let row = |v: f64| HeatRow {
            place: "P".into(),
            values: [(2000, 3.0), (2001, v)].into(),
            folded: 0,
        };
        assert!(row(26.0).sustained());
        assert!(!row(25.0).sustained());
    }
}
