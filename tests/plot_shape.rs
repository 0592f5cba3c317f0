//! The figures' data for a scenario of another shape than North Korea's: a first-asylum
//! structure with no resettlement place and forty hosts, against an observed record that names
//! seventy places and starts twenty years before the run. No figure may speak of a
//! resettlement country or keep an empty panel for it; the host × year figure keeps the
//! largest places and sums the rest into one row; the main hosts are ranked on the run's years.
#![cfg(feature = "plot")]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use diaspora::ensemble;
use diaspora::observe::Layout;
use diaspora::observe::{Row, Sex};
use diaspora::observed::{Observed, SeriesKey};
use diaspora::plot::PlotData;
use diaspora::plot::data::{MAX_HEAT_ROWS, MAX_MAIN_HOSTS, Replicates};
use diaspora::scenario::Scenario;

const HOSTS: usize = 40;
const UNMODELLED: usize = 30;
const FIRST: i32 = 2000;
const LAST: i32 = 2009;
const REPLICATES: usize = 3;

fn host(i: usize) -> String {
    format!("H{i:02}")
}

/// One origin, one transit place, forty hosts reached from it; no resettlement place.
fn first_asylum_toml() -> String {
    let mut t = format!(
        r#"name = "first-asylum"
description = "Plot test fixture: first asylum, forty hosts, no resettlement place"

[run]
start_year = {FIRST}
end_year = {LAST}
seed = 11
replicates = {REPLICATES}

[places.ORG]
kind = "origin"
name = "Origin"

[places.TRN]
kind = "transit"
name = "Transit"

[exit]
origin = "ORG"
population = 2e5
base_rate = 5e-4

[deterrence]
border_enforcement = 0.1
reattempt = 0.5
punishment = {{ dist = "fixed", months = 6 }}

[transit.TRN]
arrest = 0.01
death = 0.001
move_on = 0.1
return_home = 0.01

[routes.ORG-TRN]
from = "ORG"
to = "TRN"
duration = {{ dist = "fixed", months = 1 }}
"#
    );
    for i in 1..=HOSTS {
        let h = host(i);
        t += &format!(
            r#"
[places.{h}]
kind = "host"
name = "Host {i}"

[hosts.{h}]
recognition = 0.6
complementary = 0.1
closed = 0.1
processing = {{ dist = "gamma", mean = 6, sd = 3 }}
naturalisation = 0.02
naturalisation_min_years = 3
death = 0.0005

[routes.TRN-{h}]
from = "TRN"
to = "{h}"
duration = {{ dist = "fixed", months = 1 }}
weight = {i}
"#
        );
    }
    t += r#"
[[observation.series]]
name = "unhcr_refugees"
count = "refugees"
places = "reporting_hosts"

[[observation.series]]
name = "unhcr_asylum_seekers"
count = "asylum_seekers"
places = "hosts"

[[observation.series]]
name = "unhcr_asylum_applications"
count = "applications"
places = "hosts"
"#;
    t
}

fn load(dir: &std::path::Path) -> Scenario {
    let path = common::write_scenario(dir, "first-asylum.toml", &first_asylum_toml());
    Scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// The observed record: host `Hi` holds `100 i` refugees in each year of the run; `H01` also
/// held a million in each of the twenty years before it (a record that starts before the run);
/// thirty places the scenario does not model hold `j` (`j = 1..30`) in each year of the run.
fn observed() -> Observed {
    let mut obs = Observed::default();
    let key = |place: String| SeriesKey {
        series: "unhcr_refugees".into(),
        place,
        sex: "total".into(),
    };
    for i in 1..=HOSTS {
        for y in FIRST..=LAST {
            obs.add(key(host(i)), y, 100.0 * i as f64, false);
        }
    }
    for y in 1980..FIRST {
        obs.add(key(host(1)), y, 1e6, false);
    }
    for j in 1..=UNMODELLED {
        for y in FIRST..=LAST {
            obs.add(key(format!("X{j:02}")), y, j as f64, false);
        }
    }
    obs
}

/// The figures' data for a run of `s` against `obs`, with the rows it was computed from.
fn plot_data(s: &Scenario, obs: &Observed) -> (PlotData, Vec<(u32, Row)>, Layout) {
    let r = ensemble::run(s).unwrap();
    let rows: Vec<(u32, Row)> = r
        .numbered()
        .into_iter()
        .flat_map(|(i, rows)| rows.iter().map(move |row| (i, *row)))
        .collect();
    let reps = Replicates::new(&r.plan.layout, &rows);
    let names: BTreeMap<String, String> = s
        .raw
        .places
        .iter()
        .map(|(id, p)| (id.clone(), p.name.clone()))
        .collect();
    let data = PlotData::new("test".into(), names, &s.observation, &reps, obs);
    (data, rows, r.plan.layout.clone())
}

/// Every title and label the run figures print.
fn wording(data: &PlotData) -> Vec<String> {
    let mut out = vec![data.arrivals.title.clone()];
    out.extend(data.arrivals.lines.iter().map(|l| l.label.clone()));
    out.extend(data.unobservables.panels.iter().map(|u| u.title.clone()));
    out.extend(data.hosts.hosts.iter().map(|h| h.1.label.clone()));
    out
}

#[test]
fn no_resettlement_place_means_no_resettlement_panel_or_wording() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, _) = plot_data(&load(dir.path()), &Observed::default());
    for text in wording(&data) {
        assert!(!text.to_lowercase().contains("resettle"), "{text}");
    }
    assert_eq!(data.arrivals.lines.len(), 1, "applications only");
    let titles: Vec<&str> = data
        .unobservables
        .panels
        .iter()
        .map(|u| u.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "People hiding in transit places",
            "Repatriations to the origin"
        ]
    );
    for u in &data.unobservables.panels {
        assert!(!u.total.is_empty(), "{}: an empty panel", u.title);
        for (place, med) in &u.by_place {
            assert!(
                med.values().any(|&v| v > 0.0),
                "{}: {place} all zero",
                u.title
            );
        }
    }
}

#[test]
fn a_resettlement_place_keeps_its_panel_and_wording() {
    let s = common::load("tests/fixtures/minimal.toml", &[]);
    let (data, _, _) = plot_data(&s, &Observed::default());
    assert!(data.arrivals.title.contains("resettlement country"));
    assert_eq!(data.arrivals.lines.len(), 2);
    assert!(
        data.unobservables
            .panels
            .iter()
            .any(|u| u.title == "Onward departures from the resettlement country")
    );
}

#[test]
fn the_host_by_year_figure_keeps_the_largest_places_and_sums_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let obs = observed();
    let (data, rows, layout) = plot_data(&load(dir.path()), &obs);
    let h = &data.heatmap;
    let all = HOSTS + UNMODELLED;
    assert_eq!(h.rows.len(), MAX_HEAT_ROWS + 1);
    assert_eq!(h.folded.len(), all - MAX_HEAT_ROWS);
    let others = format!("{} others", all - MAX_HEAT_ROWS);
    assert_eq!(h.rows.last(), Some(&others));
    // Ranked by the observed peak in the run's years: H40 (4,000) down to H16 (1,600); H01's
    // million before the run does not count, so it is folded.
    let expected: Vec<String> = (HOSTS - MAX_HEAT_ROWS + 1..=HOSTS)
        .rev()
        .map(host)
        .collect();
    assert_eq!(&h.rows[..MAX_HEAT_ROWS], expected.as_slice());
    assert!(h.folded.contains(&host(1)));
    let shown: BTreeSet<&String> = h.rows.iter().collect();
    assert!(h.folded.iter().all(|p| !shown.contains(p)));

    // Observed others row: the sum of the folded places' observed values, year by year.
    let obs_others = h.observed.last().unwrap();
    assert_eq!(obs_others.place, others);
    assert_eq!(obs_others.folded, h.folded.len());
    let mut expected: BTreeMap<i32, f64> = BTreeMap::new();
    for (k, years) in &obs.series {
        if h.folded.contains(&k.place) {
            for (&y, p) in years.range(FIRST..=LAST) {
                *expected.entry(y).or_default() += p.value;
            }
        }
    }
    assert_eq!(obs_others.values, expected);
    // 15 folded hosts (H01..H15: 100 × 120 a year) and the 30 unmodelled places (465 a year).
    assert_eq!(expected[&FIRST], 100.0 * 120.0 + 465.0);

    // Simulated others row: the median over replicates of each replicate's sum of refugees
    // plus asylum-seekers over the folded hosts.
    let sim_others = h.simulated.last().unwrap();
    assert_eq!(sim_others.place, others);
    let folded: BTreeSet<usize> = layout
        .places
        .iter()
        .enumerate()
        .filter(|(_, p)| h.folded.contains(p))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(folded.len(), 15, "the folded hosts the run models");
    let stocks = ["unhcr_refugees", "unhcr_asylum_seekers"];
    let mut sums: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
    for (rep, row) in &rows {
        let series = &layout.series[usize::from(row.series)];
        if row.sex == Sex::Total
            && stocks.contains(&series.as_str())
            && folded.contains(&usize::from(row.place))
        {
            sums.entry(row.year)
                .or_insert_with(|| vec![0.0; REPLICATES])[*rep as usize] += row.value;
        }
    }
    let medians: BTreeMap<i32, f64> = sums
        .into_iter()
        .map(|(y, mut v)| {
            v.sort_by(f64::total_cmp);
            (y, v[REPLICATES / 2])
        })
        .collect();
    assert!(
        medians.values().any(|&v| v > 0.0),
        "the folded hosts hold people"
    );
    assert_eq!(sim_others.values, medians);
    assert!(h.simulated.len() <= MAX_HEAT_ROWS + 1);
}

#[test]
fn main_hosts_are_ranked_on_the_run_years_only() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, _) = plot_data(&load(dir.path()), &observed());
    let main: Vec<&str> = data.hosts.hosts.iter().map(|h| h.0.as_str()).collect();
    // Every host is above 25 in all ten years of the run; person-years then rank H40 first.
    // H01's twenty years of a million before the run would put it first if they counted.
    let expected: Vec<String> = (HOSTS - MAX_MAIN_HOSTS + 1..=HOSTS)
        .rev()
        .map(host)
        .collect();
    assert_eq!(main, expected);
}
