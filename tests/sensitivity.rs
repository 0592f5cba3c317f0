//! `diaspora sweep` with the sensitivity designs and `diaspora sensitivity`, end to end on a
//! scenario built for the test: one of its parameters (the multiplier of a switched-off event)
//! cannot change anything, so Morris must rank it last with `μ* = 0` and Jansen's total Sobol
//! index must be exactly 0 — with common random numbers, whose effect is checked directly: two
//! points that differ only in that parameter give identical outputs, and without them they do
//! not.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const MORRIS: &str = "tests/fixtures/sensitivity/morris.toml";
const IGNORED: &str = "events.never.multiply.exit.push";

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root())
        .env_remove("RUST_BACKTRACE")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("RAYON_NUM_THREADS");
    c
}

/// Plans, runs and merges `design` into `dir`.
fn sweep(design: &Path, dir: &Path) {
    for args in [
        vec!["sweep", "plan", design.to_str().unwrap(), "--out"],
        vec!["sweep", "run", "--all"],
        vec!["sweep", "merge"],
    ] {
        diaspora().args(args).arg(dir).assert().success();
    }
}

/// The Morris design with `common_random_numbers` set to `crn`, written into `tmp` with its
/// relative paths made absolute.
fn morris_design(tmp: &Path, crn: bool) -> PathBuf {
    let text = fs::read_to_string(common::path(MORRIS)).unwrap();
    let fixtures = common::path("tests/fixtures/sensitivity");
    let text = text
        .replace(
            "scenario = \"scenario.toml\"",
            &format!("scenario = {:?}", fixtures.join("scenario.toml")),
        )
        .replace(
            "observed = \"../../../data/observed\"",
            &format!("observed = {:?}", common::path("data/observed")),
        )
        .replace(
            "common_random_numbers = true",
            &format!("common_random_numbers = {crn}"),
        );
    let path = tmp.join(format!("morris-{crn}.toml"));
    fs::write(&path, text).unwrap();
    path
}

/// `sensitivity.csv` as `(output, parameter, index) → (value, rank)`.
fn indices(dir: &Path) -> BTreeMap<(String, String, String), (f64, String)> {
    let mut r = csv::Reader::from_path(dir.join("sensitivity.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (o, p, i, v, k) = (
        col("output"),
        col("parameter"),
        col("index"),
        col("value"),
        col("rank"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                (rec[o].to_string(), rec[p].to_string(), rec[i].to_string()),
                (rec[v].parse().unwrap(), rec[k].to_string()),
            )
        })
        .collect()
}

/// Kept values of every run: `(point, replicate) → [(output, value)]`, and each point's
/// parameter cells.
type Runs = BTreeMap<(u64, u32), Vec<(String, String)>>;
fn results(dir: &Path) -> (Runs, BTreeMap<u64, Vec<String>>) {
    let mut r = csv::Reader::from_path(dir.join("results.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (pt, rep, measure, series, value) = (
        col("point"),
        col("replicate"),
        col("measure"),
        col("series"),
        col("value"),
    );
    let params: Vec<usize> = (col("seed") + 1..measure).collect();
    let mut runs = Runs::new();
    let mut points = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let key = (rec[pt].parse().unwrap(), rec[rep].parse().unwrap());
        points.insert(key.0, params.iter().map(|&c| rec[c].to_string()).collect());
        if &rec[measure] == "kept" {
            let entry = runs.entry(key).or_default();
            entry.push((rec[series].to_string(), rec[value].to_string()));
        }
    }
    (runs, points)
}

/// Pairs of points whose parameters differ only in the ignored one (column 1 of the design).
fn ignored_steps(points: &BTreeMap<u64, Vec<String>>) -> Vec<(u64, u64)> {
    let ids: Vec<u64> = points.keys().copied().collect();
    ids.windows(2)
        .filter(|w| {
            let (a, b) = (&points[&w[0]], &points[&w[1]]);
            let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            differ == [1]
        })
        .map(|w| (w[0], w[1]))
        .collect()
}

#[test]
fn morris_ranks_an_ignored_parameter_last_with_mu_star_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("morris");
    sweep(&morris_design(tmp.path(), true), &dir);
    let out = diaspora()
        .arg("sensitivity")
        .arg(&dir)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("8 trajectories"), "{out}");
    let ix = indices(&dir);
    let outputs = [
        "arrivals:RES:2000-2009:sum",
        "hidden_in_transit:TRN:2009",
        "refugees:HST:2005-2009:mean",
    ];
    for o in outputs {
        let get = |p: &str, i: &str| ix[&(o.to_string(), p.to_string(), i.to_string())].clone();
        let (mu_star, rank) = get(IGNORED, "mu_star");
        assert_eq!(mu_star, 0.0, "{o}: μ* of the ignored parameter");
        assert_eq!(
            get(IGNORED, "sigma").0,
            0.0,
            "{o}: σ of the ignored parameter"
        );
        assert_eq!(rank, "4", "{o}: the ignored parameter ranks last");
        for p in [
            "exit.base_rate",
            "transit.TRN.move_on",
            "hosts.HST.recognition",
        ] {
            assert!(get(p, "mu_star").0 > 0.0, "{o}: {p} matters");
        }
    }
    // The base rate drives arrivals most: the ranking reads the effects, not the file order.
    let rank = |p: &str| {
        ix[&(outputs[0].into(), p.into(), "mu_star".into())]
            .1
            .clone()
    };
    assert_eq!(rank("exit.base_rate"), "1");
    assert_eq!(rank("hosts.HST.recognition"), "3");
}

#[test]
fn common_random_numbers_make_an_ignored_step_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (crn, independent) = (tmp.path().join("crn"), tmp.path().join("independent"));
    sweep(&morris_design(tmp.path(), true), &crn);
    sweep(&morris_design(tmp.path(), false), &independent);

    let (runs, points) = results(&crn);
    let steps = ignored_steps(&points);
    assert!(
        steps.len() >= 4,
        "the design steps the ignored parameter: {steps:?}"
    );
    for &(a, b) in &steps {
        for rep in 0..2 {
            assert_eq!(
                runs[&(a, rep)],
                runs[&(b, rep)],
                "points {a} and {b}, replicate {rep}"
            );
        }
    }
    // Same plan without common random numbers: the same steps, different seeds, different values.
    let (runs, points) = results(&independent);
    assert_eq!(ignored_steps(&points), steps);
    let differ = steps
        .iter()
        .filter(|&&(a, b)| runs[&(a, 0)] != runs[&(b, 0)])
        .count();
    assert_eq!(
        differ,
        steps.len(),
        "independent seeds give independent noise"
    );
}

#[test]
fn a_saltelli_design_gives_an_ignored_parameter_a_total_index_of_exactly_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let morris = fs::read_to_string(morris_design(tmp.path(), true)).unwrap();
    let (head, _) = morris.split_once("[morris]").unwrap();
    let (_, params) = morris.split_once("levels = 4").unwrap();
    let text = format!(
        "{}\n[saltelli]\nbase_points = 64\n{params}",
        head.replace("method = \"morris\"", "method = \"saltelli\"")
            .replace("replicates = 2", "replicates = 1")
    );
    let design = tmp.path().join("saltelli.toml");
    fs::write(&design, text).unwrap();
    let dir = tmp.path().join("saltelli");
    sweep(&design, &dir);
    diaspora().arg("sensitivity").arg(&dir).assert().success();
    let ix = indices(&dir);
    let o = "arrivals:RES:2000-2009:sum".to_string();
    let get = |p: &str, i: &str| ix[&(o.clone(), p.to_string(), i.to_string())].0;
    assert_eq!(get(IGNORED, "ST"), 0.0);
    assert_eq!(get(IGNORED, "S1"), 0.0);
    let base = get("exit.base_rate", "ST");
    assert!(
        base > 0.3,
        "the base rate carries much of the variance: ST = {base}"
    );
    let sum: f64 = [
        "exit.base_rate",
        "transit.TRN.move_on",
        "hosts.HST.recognition",
    ]
    .iter()
    .map(|p| get(p, "S1"))
    .sum();
    assert!(
        (0.6..1.2).contains(&sum),
        "first-order indices sum to {sum}"
    );
}
