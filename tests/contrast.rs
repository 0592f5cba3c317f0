//! `diaspora contrast` and `diaspora run --posterior` on real runs: a run contrasted with itself
//! is exactly zero everywhere; a counterfactual whose events start in 2004 differs from its
//! reference not at all before 2004 (same seed, same random numbers) and clearly after; a
//! posterior run's replicate is exactly the plain run of its particle's values.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;

const MINIMAL: &str = "tests/fixtures/minimal.toml";
const NO_CRACKDOWN: &str = "tests/fixtures/contrast/no-crackdown.toml";
const POSTERIOR: &str = "tests/fixtures/contrast/calibration";

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RAYON_NUM_THREADS");
    c
}

fn run(scenario: &str, out: &Path, extra: &[&str]) {
    diaspora()
        .args(["run", scenario, "--replicates", "6", "--seed", "5", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn contrast(a: &Path, b: &Path, out: &Path) -> String {
    let o = diaspora()
        .arg("contrast")
        .args([a, b])
        .arg("--out")
        .arg(out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(o).unwrap()
}

/// `contrast.csv` rows as maps of column → cell.
fn rows(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("contrast.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

const DIFFERENCES: [&str; 5] = ["mean", "sd", "p05", "p50", "p95"];

#[test]
fn a_run_contrasted_with_itself_is_exactly_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    run(MINIMAL, &a, &[]);
    let out = contrast(&a, &a, &tmp.path().join("c"));
    assert!(out.contains("every difference is exactly zero"), "{out}");
    let rows = rows(&tmp.path().join("c"));
    assert!(rows.len() > 100);
    for r in &rows {
        for c in DIFFERENCES {
            assert_eq!(r[c], "0", "{c} in {r:?}");
        }
    }
}

#[test]
fn a_counterfactual_from_2004_is_exactly_zero_before_2004() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run(MINIMAL, &a, &[]);
    run(NO_CRACKDOWN, &b, &[]);
    let c = tmp.path().join("c");
    let out = contrast(&a, &b, &c);
    assert!(out.contains("identical before 2004"), "{out}");
    let mut after = 0;
    for r in rows(&c) {
        let year: i32 = r["year"].parse().unwrap();
        if year < 2004 {
            for col in DIFFERENCES {
                assert_eq!(r[col], "0", "{col} in {r:?}");
            }
        } else if r["series"] == "exit_attempts" && r["mean"] != "0" {
            after += 1;
        }
    }
    assert!(after > 0, "the crackdown changes exit attempts from 2004");
    // Without the crackdown's halving of the push in 2004-05, more people leave: 1e6 people ×
    // 2e-4 a month × 24 months × 0.5 = 2,400 more exit attempts over 2004–2009, in expectation
    // (the replicates' Poisson noise is about 50 per replicate; 5 standard errors allowed).
    let mut r = csv::Reader::from_path(c.join("contrast_totals.csv")).unwrap();
    let header = r.headers().unwrap().clone();
    let total = r
        .records()
        .map(Result::unwrap)
        .find(|rec| &rec[0] == "exit_attempts" && &rec[1] == "total")
        .expect("an exit_attempts total");
    let cell = |name: &str| &total[header.iter().position(|h| h == name).unwrap()];
    assert_eq!((cell("first_year"), cell("last_year")), ("2004", "2009"));
    let mean: f64 = cell("mean").parse().unwrap();
    assert!((mean - 2400.0).abs() < 5.0 * 50.0 / 2f64.sqrt(), "{mean}");
}

#[test]
fn a_posterior_run_replicate_is_the_plain_run_of_its_particle() {
    let tmp = tempfile::tempdir().unwrap();
    let post = tmp.path().join("post");
    run(MINIMAL, &post, &["--posterior", POSTERIOR]);
    let manifest: toml::Table =
        toml::from_str(&fs::read_to_string(post.join("manifest.toml")).unwrap()).unwrap();
    let particles: Vec<i64> = manifest["posterior"]["particles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_integer().unwrap())
        .collect();
    assert_eq!(particles.len(), 6);
    assert!(
        !particles.contains(&2),
        "particle 2 has weight 0: {particles:?}"
    );
    let draws = fs::read_to_string(post.join("draws.csv")).unwrap();
    assert_eq!(
        draws.lines().next(),
        Some("replicate,draw,particle,exit.base_rate,transit.TRN.move_on")
    );

    // Replicate 0 with its particle's values set by hand, same seed: identical rows.
    let first: Vec<&str> = draws.lines().nth(1).unwrap().split(',').collect();
    let plain = tmp.path().join("plain");
    run(
        MINIMAL,
        &plain,
        &[
            "--set",
            &format!("exit.base_rate={}", first[3]),
            "--set",
            &format!("transit.TRN.move_on={}", first[4]),
        ],
    );
    let replicate = |dir: &Path, k: &str| -> Vec<String> {
        fs::read_to_string(dir.join("series.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter(|l| l.split(',').next() == Some(k))
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect()
    };
    let p0 = replicate(&post, "0");
    assert!(!p0.is_empty());
    assert_eq!(p0, replicate(&plain, "0"));
    // A replicate of another particle differs from the plain run's.
    if let Some(k) = particles.iter().position(|&p| p.to_string() != first[2]) {
        let k = k.to_string();
        assert_ne!(replicate(&post, &k), replicate(&plain, &k));
    }

    // A --set of a drawn path is refused (which value would win is not obvious).
    let e = diaspora()
        .args([
            "run",
            MINIMAL,
            "--posterior",
            POSTERIOR,
            "--set",
            "exit.base_rate=1e-4",
        ])
        .arg("--out")
        .arg(tmp.path().join("refused"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let e = String::from_utf8(e).unwrap();
    assert!(e.contains("is drawn from"), "{e}");
    assert!(!tmp.path().join("refused").exists());
}

#[test]
fn the_variance_split_is_over_parameter_sets_when_both_runs_share_the_draws() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let extra = ["--posterior", POSTERIOR, "--draws", "3"];
    run(MINIMAL, &a, &extra);
    run(NO_CRACKDOWN, &b, &extra);
    let c = tmp.path().join("c");
    let out = contrast(&a, &b, &c);
    assert!(out.contains("distinct parameter set(s)"), "{out}");
    // Where the difference varies, the split is defined and its two parts add up to the
    // variance of the difference (unbiased ANOVA estimators, so only approximately the sd²).
    let mut defined = 0;
    for r in rows(&c) {
        if r["share_parametric"].is_empty() {
            continue;
        }
        let share: f64 = r["share_parametric"].parse().unwrap();
        assert!((0.0..=1.0).contains(&share), "{r:?}");
        defined += 1;
    }
    assert!(defined > 10, "split defined on {defined} rows");
}

#[test]
fn a_posterior_file_and_its_calibration_folder_give_the_same_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (folder, file) = (tmp.path().join("folder"), tmp.path().join("file"));
    run(
        MINIMAL,
        &folder,
        &["--posterior", POSTERIOR, "--draws", "3"],
    );
    let csv = format!("{POSTERIOR}/posterior.csv");
    run(MINIMAL, &file, &["--posterior", &csv, "--draws", "3"]);
    let series = |d: &Path| fs::read(d.join("series.csv")).unwrap();
    assert_eq!(series(&folder), series(&file));
    // …and not the same as a run of the scenario's own values.
    let plain = tmp.path().join("plain");
    run(MINIMAL, &plain, &[]);
    assert_ne!(series(&plain), series(&file));
}
