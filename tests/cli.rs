//! The `diaspora` binary on real files: scenarios run, invalid input gets one clear line and
//! exit code 2 with nothing written, and outputs are identical at any thread count.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root()).env_remove("RUST_BACKTRACE");
    c
}

#[test]
fn every_scenario_validates_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for entry in fs::read_dir(common::path("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        n += 1;
        diaspora().arg("validate").arg(&path).assert().success();
        let out = dir.path().join(path.file_stem().unwrap());
        diaspora()
            .args(["run", "--replicates", "1", "--out"])
            .arg(&out)
            .arg(&path)
            .assert()
            .success();
        for f in [
            "series.csv",
            "summary.csv",
            "manifest.toml",
            "scenario.toml",
        ] {
            assert!(
                out.join(f).metadata().unwrap().len() > 0,
                "{f} written for {}",
                path.display()
            );
        }
    }
    assert!(n >= 3, "baseline and two counterfactuals");
}

/// The first line of each invalid fixture says `# expect: <the error line>`.
#[test]
fn every_invalid_fixture_gives_its_error_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for entry in fs::read_dir(common::path("tests/fixtures/invalid")).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        let expected = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .expect("expect line");
        let rel = path.strip_prefix(common::root()).unwrap();
        for cmd in ["validate", "run"] {
            let out = dir.path().join(format!("out-{n}"));
            let mut c = diaspora();
            c.arg(cmd).arg(rel);
            if cmd == "run" {
                c.arg("--out").arg(&out);
            }
            let assert = c.assert().code(2);
            let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
            assert_eq!(stderr, format!("error: {expected}\n"), "{}", rel.display());
            assert!(!out.exists(), "nothing written for {}", rel.display());
        }
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn unknown_set_path_is_exit_2_with_one_line() {
    let assert = diaspora()
        .args([
            "validate",
            "scenarios/baseline.toml",
            "--set",
            "hosts.GBR.recogniton=0.4",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.starts_with(
        "error: --set hosts.GBR.recogniton=0.4: hosts.GBR.recogniton: unknown key `recogniton` in `hosts.GBR` (expected one of:"
    ));
    assert_eq!(stderr.lines().count(), 1);
    diaspora()
        .args(["run", "scenarios/baseline.toml", "--set", "novalue"])
        .assert()
        .code(2);
}

fn run_threads(out: &Path, threads: &str) {
    diaspora()
        .args([
            "run",
            "scenarios/baseline.toml",
            "--replicates",
            "3",
            "--seed",
            "99",
            "--threads",
            threads,
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn outputs_are_byte_identical_at_1_2_and_4_threads() {
    let dir = tempfile::tempdir().unwrap();
    let outs: Vec<_> = ["1", "2", "4"]
        .iter()
        .map(|t| dir.path().join(format!("t{t}")))
        .collect();
    for (out, t) in outs.iter().zip(["1", "2", "4"]) {
        run_threads(out, t);
    }
    for f in ["series.csv", "summary.csv", "scenario.toml"] {
        let one = fs::read(outs[0].join(f)).unwrap();
        assert!(!one.is_empty());
        for other in &outs[1..] {
            assert!(
                one == fs::read(other.join(f)).unwrap(),
                "{f} differs between thread counts"
            );
        }
    }
    let manifest: toml::Table =
        toml::from_str(&fs::read_to_string(outs[2].join("manifest.toml")).unwrap()).unwrap();
    assert_eq!(manifest["threads"].as_integer(), Some(4));
    assert_eq!(manifest["seed"].as_integer(), Some(99));
}

#[test]
fn run_prints_where_it_wrote_and_the_arrivals_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let assert = diaspora()
        .args([
            "run",
            "scenarios/baseline.toml",
            "--replicates",
            "2",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(&format!("wrote {}", out.display())),
        "{stdout}"
    );
    assert!(stdout.contains("mou_arrivals at KOR"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("2010") && l.contains("2402")),
        "{stdout}"
    );
    let series = fs::read_to_string(out.join("series.csv")).unwrap();
    assert!(series.starts_with("replicate,year,series,place,sex,value\n"));
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("year,series,place,sex,mean,sd,p05,p50,p95\n"));
}

/// `--set run.end_year=2000` shortens the baseline for a quick look: one warning line per event
/// left out, exit 0, and year for year the rows of the full run (nothing before 2000 depends
/// on the run's length or on later events).
#[test]
fn a_run_shortened_with_set_is_the_full_run_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, sets: &[&str]| {
        let out = dir.path().join(name);
        let mut c = diaspora();
        c.args([
            "run",
            "scenarios/baseline.toml",
            "--replicates",
            "2",
            "--out",
        ])
        .arg(&out);
        for s in sets {
            c.args(["--set", s]);
        }
        let assert = c.assert().success();
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        (fs::read_to_string(out.join("series.csv")).unwrap(), stderr)
    };
    let (full, quiet) = run("full", &[]);
    let (short, stderr) = run("short", &["run.end_year=2000"]);
    assert_eq!(quiet, "");
    assert_eq!(stderr.lines().count(), 6, "{stderr}");
    assert!(
        stderr.lines().all(
            |l| l.starts_with("warning: --set run.end_year=2000: events.")
                && l.ends_with("event left out")
        ),
        "{stderr}"
    );
    let upto_2000 = |csv: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| {
                l.split(',')
                    .nth(1)
                    .and_then(|y| y.parse::<i32>().ok())
                    .is_some_and(|y| y <= 2000)
            })
            .map(String::from)
            .collect()
    };
    assert!(upto_2000(&full).len() > 1000);
    assert_eq!(upto_2000(&short), upto_2000(&full));
    assert_eq!(upto_2000(&short).len(), short.lines().count() - 1);
}

/// A negative or too large `--seed` gets one line and exit 2, not clap's advice.
#[test]
fn a_bad_seed_gets_one_line() {
    for (seed, shown) in [("-1", "-1"), ("9223372036854775808", "9223372036854775808")] {
        let assert = diaspora()
            .args(["run", "scenarios/baseline.toml", "--seed", seed])
            .assert()
            .code(2);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert_eq!(
            stderr,
            format!(
                "error: invalid value '{shown}' for '--seed <SEED>': expected a whole number in 0..=9223372036854775807, found {shown}\n"
            )
        );
    }
    let assert = diaspora().args(["run"]).assert().code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        "error: the following required arguments were not provided: <SCENARIO>\n"
    );
}
