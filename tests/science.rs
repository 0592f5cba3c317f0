//! Tests of the simulated science: closed-form expectations, closed routes, zero recognition,
//! masking, conservation, and thread-count invariance.

mod common;

use std::collections::BTreeMap;

use diaspora::engine::{KeepAll, LifeState, Simulation};
use diaspora::ensemble::{self, EnsembleResult};
use diaspora::observe::Sex;
use diaspora::scenario::{Override, Scenario};
use proptest::prelude::*;

/// Value of `(series, place, total)` in `year` for replicate `rep`.
fn value(r: &EnsembleResult, rep: usize, year: i32, series: &str, place: &str) -> f64 {
    common::value(r, rep, year, series, place, Sex::Total)
        .unwrap_or_else(|| panic!("no row {series} {place} {year}"))
}

/// Sum of a series over all years and replicates.
fn total(r: &EnsembleResult, series: &str) -> f64 {
    let s = r
        .plan
        .layout
        .series
        .iter()
        .position(|n| n == series)
        .unwrap();
    r.replicates
        .iter()
        .flatten()
        .filter(|row| usize::from(row.series) == s && row.sex == Sex::Total)
        .map(|row| row.value)
        .sum()
}

const GEOMETRIC: &str = r#"
name = "geometric"
[run]
start_year = 2000
end_year = 2002
seed = 11
replicates = 4
[places.O]
kind = "origin"
[places.T]
kind = "transit"
[places.R]
kind = "resettlement"
[exit]
origin = "O"
population = 1e6
base_rate = 0.01
push = { years = [2000, 2001], values = [1, 0], interpolation = "step" }
[transit.T]
move_on = 0.05
[resettlement.R]
[routes.O-T]
from = "O"
to = "T"
duration = { dist = "fixed", months = 1 }
[routes.T-R]
from = "T"
to = "R"
duration = { dist = "fixed", months = 1 }
"#;

/// People leave only in 2000, at λ per month; each enters T one month after leaving and then
/// leaves T with probability p every month. The expected stock in T at the end of month m is
/// λ Σ_c (1−p)^(m−c−1) over exit months c = 0..11.
#[test]
fn constant_hazard_gives_geometric_stock_decay() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_scenario(dir.path(), "g.toml", GEOMETRIC);
    let s = Scenario::load(&path, &[]).unwrap();
    let r = ensemble::run(&s).unwrap();
    let (lambda, p) = (1e6 * 0.01, 0.05f64);
    for (year, m) in [(2001, 23), (2002, 35)] {
        let expected: f64 = (0..12).map(|c| lambda * (1.0 - p).powi(m - c - 1)).sum();
        let mean = (0..4)
            .map(|rep| value(&r, rep, year, "hidden_in_transit", "T"))
            .sum::<f64>()
            / 4.0;
        // Poisson-like noise: sd ≈ sqrt(expected / 4); allow 5 sd.
        let tolerance = 5.0 * (expected / 4.0).sqrt();
        assert!(
            (mean - expected).abs() < tolerance,
            "{year}: mean stock {mean}, expected {expected} ± {tolerance}"
        );
    }
}

#[test]
fn closed_routes_give_zero_arrivals() {
    // The route into the resettlement country is closed: people leave, but nobody arrives.
    let s = common::load("tests/fixtures/minimal.toml", &["routes.TRN-RES.weight=0"]);
    let r = ensemble::run(&s).unwrap();
    assert!(total(&r, "exit_attempts") > 1000.0);
    assert_eq!(total(&r, "arrivals"), 0.0);
    assert_eq!(total(&r, "population_resettled"), 0.0);
    // Every route closed (by their years): nobody even leaves.
    let s = common::load(
        "tests/fixtures/minimal.toml",
        &[
            "routes.ORG-TRN.years_open.0=1990",
            "routes.ORG-TRN.years_open.1=1991",
            "routes.TRN-RES.weight=0",
        ],
    );
    let r = ensemble::run(&s).unwrap();
    assert_eq!(total(&r, "exit_attempts"), 0.0);
    assert_eq!(total(&r, "arrivals"), 0.0);
}

#[test]
fn zero_recognition_gives_no_refugees() {
    let s = common::load(
        "tests/fixtures/minimal.toml",
        &["hosts.HST.recognition=0", "hosts.HST.complementary=0"],
    );
    let r = ensemble::run(&s).unwrap();
    assert!(total(&r, "applications") > 100.0, "claims are still made");
    assert_eq!(total(&r, "refugees"), 0.0);
    assert_eq!(total(&r, "population_refugee"), 0.0);
    assert_eq!(total(&r, "population_complementary_protection"), 0.0);
    assert_eq!(total(&r, "population_naturalised"), 0.0);
}

/// Masking as UNHCR publishes: the same run with masking switched off shows, row for row, the
/// true value, and the masked run shows 5 exactly where the truth is 1 to 4 (some are), and the
/// truth everywhere else.
#[test]
fn masked_series_show_one_to_four_as_five_and_nothing_else_changed() {
    let s = common::load("scenarios/baseline.toml", &["run.replicates=2"]);
    let masked: Vec<usize> = (0..s.observation.series.len())
        .filter(|&i| s.observation.series[i].mask)
        .collect();
    assert!(!masked.is_empty());
    let unmask: Vec<String> = masked
        .iter()
        .map(|i| format!("observation.series.{i}.mask=false"))
        .chain(["run.replicates=2".to_string()])
        .collect();
    let sets: Vec<&str> = unmask.iter().map(String::as_str).collect();
    let truth_s = common::load("scenarios/baseline.toml", &sets);
    let shown = ensemble::run(&s).unwrap();
    let truth = ensemble::run(&truth_s).unwrap();
    assert_eq!(shown.plan.layout.series, truth.plan.layout.series);
    let names: Vec<&str> = masked
        .iter()
        .map(|&i| s.observation.series[i].name.as_str())
        .collect();
    let is_masked =
        |series: u16| names.contains(&shown.plan.layout.series[usize::from(series)].as_str());
    let (mut small, mut rows) = (0, 0);
    for (a, b) in shown.replicates.iter().zip(&truth.replicates) {
        assert_eq!(a.len(), b.len());
        for (row, true_row) in a.iter().zip(b) {
            assert_eq!(
                (row.year, row.series, row.place, row.sex),
                (true_row.year, true_row.series, true_row.place, true_row.sex)
            );
            let v = true_row.value;
            let expected = if is_masked(row.series) && (1.0..5.0).contains(&v) {
                small += 1;
                5.0
            } else {
                v
            };
            assert_eq!(row.value, expected, "{row:?} against the truth {v}");
            rows += usize::from(is_masked(row.series));
        }
    }
    assert!(small > 0, "some published cells are 1 to 4 in truth");
    assert!(rows > small, "and most are not");
}

/// Every bundled scenario (scenarios/*.toml) gives byte-identical series at 1, 2 and 4 threads.
#[test]
fn outputs_do_not_depend_on_thread_count() {
    let mut files: Vec<_> = std::fs::read_dir(common::path("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    for file in files {
        let rel = file
            .strip_prefix(common::root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        same_at_any_thread_count(&common::load(&rel, &["run.replicates=3"]));
    }
}

fn same_at_any_thread_count(s: &Scenario) {
    assert!(s.model.places.len() > 3);
    let run_with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let r = pool.install(|| ensemble::run(s)).unwrap();
        let reps: Vec<(u32, &[_])> = r
            .replicates
            .iter()
            .enumerate()
            .map(|(i, x)| (i as u32, x.as_slice()))
            .collect();
        diaspora::output::series_csv(&r.plan.layout, &reps)
    };
    let one = run_with(1);
    assert!(one.len() > 10_000, "{}", s.name);
    assert_eq!(one, run_with(2));
    assert_eq!(one, run_with(4));
}

fn minimal_with(sets: &[(&str, f64)]) -> Scenario {
    let t = common::template("tests/fixtures/minimal.toml");
    let overrides: Vec<Override> = sets.iter().map(|(k, v)| Override::number(k, *v)).collect();
    t.instantiate(&overrides).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Whatever the probabilities, every agent created is in exactly one state at the end.
    #[test]
    fn conservation_holds_for_random_scenarios(
        arrest in 0.0..0.5f64, death in 0.0..0.2f64, move_on in 0.0..1.0f64, ret in 0.0..0.3f64,
        onward in 0.0..0.5f64, recognition in 0.0..0.6f64, removal in 0.0..1.0f64,
        reattempt in 0.0..1.0f64, border in 0.0..1.0f64, seed in 0u64..1000,
    ) {
        let s = minimal_with(&[
            ("exit.population", 5e4),
            ("transit.TRN.arrest", arrest), ("transit.TRN.death", death),
            ("transit.TRN.move_on", move_on), ("transit.TRN.return_home", ret),
            ("resettlement.RES.onward", onward), ("hosts.HST.recognition", recognition),
            ("hosts.HST.removal", removal), ("deterrence.reattempt", reattempt),
            ("deterrence.border_enforcement", border), ("events.crackdown.multiply.transit.TRN.arrest", 1.5),
        ]);
        let sim = Simulation::new(&s.model);
        let mut keep = KeepAll::default();
        let stats = sim.run(seed, 0, &mut keep).expect("conservation holds");
        for tally in &keep.years {
            let alive: u64 = LifeState::ALL.iter().map(|&st| tally.state_total(st)).sum();
            prop_assert!(alive <= stats.agents_created);
        }
        let last = keep.years.last().unwrap();
        let all: u64 = LifeState::ALL.iter().map(|&st| last.state_total(st)).sum();
        prop_assert_eq!(all, stats.agents_created);
    }
}

/// The baseline meets the criterion of its calibration (README, "The baseline and its fit"):
/// with 8 replicates, the median simulated MOU arrivals are within a factor of 1.5 of the
/// observed series in at least 15 of the 20 years 2000–2019; the COVID closure shows (2021
/// under a fifth of 2019); and the diaspora is T-shaped: the resettled population is at least
/// ten times any host's peak of refugees plus asylum-seekers, and the four largest hosts are
/// the UK, Canada, Germany and the USA.
#[test]
fn baseline_matches_mou_arrivals_and_is_t_shaped() {
    let s = common::load("scenarios/baseline.toml", &["run.replicates=8"]);
    let r = ensemble::run(&s).unwrap();
    let observed = diaspora::observed::load(&common::path("data/observed")).unwrap();
    let mou = observed.get("mou_arrivals", "KOR", "total").unwrap();
    let median = |year: i32, series: &str, place: &str| {
        let mut v: Vec<f64> = (0..8).map(|i| value(&r, i, year, series, place)).collect();
        v.sort_by(f64::total_cmp);
        (v[3] + v[4]) / 2.0
    };
    let misses: Vec<String> = (2000..=2019)
        .filter_map(|year| {
            let (sim, obs) = (median(year, "mou_arrivals", "KOR"), mou[&year].value);
            let within = (1.0 / 1.5..=1.5).contains(&(sim / obs));
            (!within).then(|| format!("{year}: simulated {sim:.0} vs observed {obs:.0}"))
        })
        .collect();
    assert!(
        misses.len() <= 5,
        "more than 5 years off by more than x1.5: {misses:?}"
    );
    assert!(median(2021, "mou_arrivals", "KOR") < median(2019, "mou_arrivals", "KOR") / 5.0);

    let resettled = median(2025, "population_resettled", "ALL");
    // Refugees plus asylum-seekers by (place, year, replicate), for the hosts that report.
    let layout = &r.plan.layout;
    let stock: Vec<usize> = ["unhcr_refugees", "unhcr_asylum_seekers"]
        .iter()
        .map(|n| layout.series.iter().position(|s| s == n).unwrap())
        .collect();
    let mut by_place: BTreeMap<(usize, i32), Vec<f64>> = BTreeMap::new();
    for (rep, rows) in r.replicates.iter().enumerate() {
        for row in rows {
            if row.sex == Sex::Total && stock.contains(&usize::from(row.series)) {
                let v = by_place
                    .entry((usize::from(row.place), row.year))
                    .or_insert_with(|| vec![0.0; 8]);
                v[rep] += row.value;
            }
        }
    }
    let mut peaks: Vec<(f64, String)> = Vec::new();
    for ((place, _), mut v) in by_place {
        v.sort_by(f64::total_cmp);
        let m = (v[3] + v[4]) / 2.0;
        let id = layout.places[place].clone();
        match peaks.iter_mut().find(|(_, p)| *p == id) {
            Some(peak) => peak.0 = peak.0.max(m),
            None => peaks.push((m, id)),
        }
    }
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert!(resettled >= 10.0 * peaks[0].0, "{resettled} vs {peaks:?}");
    let mut top4: Vec<&str> = peaks[..4].iter().map(|(_, p)| p.as_str()).collect();
    top4.sort_unstable();
    assert_eq!(top4, ["CAN", "DEU", "GBR", "USA"], "{peaks:?}");
}
