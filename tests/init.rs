//! `diaspora init` on real data: for North Korea (hosts given) and Eritrea (hosts chosen from
//! UNHCR's tables) the scenario validates against its observed data and runs, and the
//! calibration file is accepted with one target per host; for an origin without shipped data the
//! files still validate and run, and calibration refuses them, saying why; existing files are
//! never overwritten.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;

use diaspora::calibrate::{Config, Problem};

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root()).env_remove("RUST_BACKTRACE");
    c
}

fn stdout(c: &mut Command) -> String {
    String::from_utf8(c.assert().success().get_output().stdout.clone()).unwrap()
}

/// `diaspora init ARGS --dir DIR`, refused: exit 2; returns stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let mut c = diaspora();
    c.arg("init").args(args).arg("--dir").arg(dir);
    String::from_utf8_lossy(&c.assert().code(2).get_output().stderr).into_owned()
}

/// The five hosts with the largest refugee stock in any year, computed from UNHCR's table.
fn largest_hosts(population_csv: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(common::path(population_csv)).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (coa, year, refugees) = (col("coa_iso"), col("year"), col("refugees"));
    let mut stock: BTreeMap<(String, String), f64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let v: f64 = rec[refugees].parse().unwrap_or(0.0);
        *stock
            .entry((rec[coa].into(), rec[year].into()))
            .or_default() += v;
    }
    let mut peak: BTreeMap<String, f64> = BTreeMap::new();
    for ((c, _), v) in stock {
        let p = peak.entry(c).or_default();
        *p = p.max(v);
    }
    let mut v: Vec<(String, f64)> = peak.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v.into_iter().take(5).map(|x| x.0).collect()
}

/// Runs `init`, `validate` and `run` and reads the calibration; returns the hosts, the
/// validate output and the calibration problem (or its error).
fn init_validate_run(
    dir: &Path,
    name: &str,
    origin: &str,
    hosts: Option<&str>,
) -> (Vec<String>, String, Result<Problem, String>) {
    let mut init = diaspora();
    init.args(["init", name, "--origin", origin, "--dir"])
        .arg(dir);
    if let Some(h) = hosts {
        init.args(["--hosts", h]);
    }
    let said = stdout(&mut init);
    let hosts: Vec<String> = said
        .lines()
        .next()
        .and_then(|l| l.split("(hosts ").nth(1))
        .map(|h| {
            h.trim_end_matches(')')
                .split(", ")
                .map(String::from)
                .collect()
        })
        .unwrap_or_else(|| panic!("{said}"));
    let scenario = dir.join(format!("{name}.toml"));
    let validated = stdout(diaspora().arg("validate").arg(&scenario));
    let out = dir.join(format!("out-{name}"));
    diaspora()
        .arg("run")
        .arg(&scenario)
        .args(["--replicates", "2", "--out"])
        .arg(&out)
        .assert()
        .success();
    // Every host receives people, and the run is small (persons per agent set by the scale).
    let mut r = csv::Reader::from_path(out.join("series.csv")).unwrap();
    let mut refugees: BTreeMap<String, f64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[2] == "unhcr_refugees" && &rec[4] == "total" {
            *refugees.entry(rec[3].to_string()).or_default() += rec[5].parse::<f64>().unwrap();
        }
    }
    for h in &hosts {
        assert!(
            refugees.get(h).is_some_and(|&v| v > 0.0),
            "{h}: {refugees:?}"
        );
    }
    let calibration = dir.join("calibration").join(format!("{name}.toml"));
    let config = Config::read(&calibration).unwrap_or_else(|e| panic!("{e}"));
    (
        hosts,
        validated,
        Problem::new(config).map_err(|e| e.to_string()),
    )
}

#[test]
fn init_writes_a_scenario_and_calibration_that_work_for_two_origins() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("scenarios");

    // North Korea, hosts given: the project's data/observed folder is found for origin PRK.
    let (hosts, validated, problem) = init_validate_run(&dir, "nk", "PRK", Some("gbr,CAN,DEU"));
    assert_eq!(hosts, ["GBR", "CAN", "DEU"]);
    assert!(
        validated.contains("unhcr_refugees") && !validated.contains("none named"),
        "{validated}"
    );
    let text = fs::read_to_string(dir.join("nk.toml")).unwrap();
    assert!(text.contains("data/observed\"]"), "{text}");
    let problem = problem.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(problem.origin, "PRK");
    let targets: Vec<&str> = problem
        .targets
        .iter()
        .map(|t| t.spec.place.as_str())
        .collect();
    assert_eq!(targets, ["GBR", "CAN", "DEU"]);
    assert!(problem.targets.iter().all(|t| t.points.len() >= 10));
    // The exit rate and the attractions of all hosts but the first are free.
    let free: Vec<&str> = problem
        .config
        .parameters
        .iter()
        .map(|p| p.path.as_str())
        .collect();
    assert_eq!(
        free,
        [
            "exit.base_rate",
            "hosts.CAN.attraction",
            "hosts.DEU.attraction"
        ]
    );

    // Eritrea, no hosts given: the five largest refugee populations in UNHCR's table.
    let (hosts, validated, problem) = init_validate_run(&dir, "eri", "ERI", None);
    assert_eq!(hosts, largest_hosts("data/unhcr-layout/population_eri.csv"));
    let points = validated
        .lines()
        .find(|l| l.trim_start().starts_with("unhcr_refugees"))
        .unwrap_or_else(|| panic!("{validated}"));
    assert!(
        points.ends_with(" observed points") && !points.contains("vs 0 "),
        "{points}"
    );
    let problem = problem.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(problem.origin, "ERI");
    assert_eq!(problem.targets.len(), 5);

    // Never overwritten: exit 2, one line, the file unchanged.
    let before = fs::read(dir.join("eri.toml")).unwrap();
    let e = refused(&dir, &["eri", "--origin", "ERI"]);
    assert!(
        e.contains("eri.toml: exists; diaspora init never overwrites a file"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    assert_eq!(fs::read(dir.join("eri.toml")).unwrap(), before);
    // Nor when only the calibration file exists.
    fs::remove_file(dir.join("eri.toml")).unwrap();
    refused(&dir, &["eri", "--origin", "ERI"]);
    assert!(!dir.join("eri.toml").exists());
}

#[test]
fn an_origin_without_data_gets_files_that_run_and_a_clear_refusal_to_calibrate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let (hosts, validated, problem) = init_validate_run(&dir, "syr", "SYR", Some("DEU,SWE"));
    assert_eq!(hosts, ["DEU", "SWE"]);
    assert!(validated.contains("observed   none named: "), "{validated}");
    let text = fs::read_to_string(dir.join("syr.toml")).unwrap();
    assert!(
        text.contains("# No observed data for SYR were found under data/.")
            && text.contains("data/unhcr-layout/"),
        "{text}"
    );
    let e = problem.err().expect("calibration refused");
    assert!(e.contains("no observed sources"), "{e}");

    // Without hosts there is nothing to choose them from.
    let e = refused(&dir, &["x", "--origin", "SYR"]);
    assert_eq!(
        e,
        "error: --hosts: no observed data for origin SYR under data to choose hosts from: give them, e.g. --hosts DEU,FRA\n"
    );
}
