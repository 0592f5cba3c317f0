//! `diaspora compare` and `diaspora plot` on real files: every metric against numbers worked
//! out by hand on a tiny run directory (zeros, masked 5s, missing years, another origin's
//! rows), clear errors with exit code 2, figures that are valid files, and both commands
//! straight after `diaspora run`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root()).env_remove("RUST_BACKTRACE");
    c
}

/// A copy of the tiny run directory (tests must not write into fixtures).
fn tiny_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("tiny");
    fs::create_dir(&run).unwrap();
    for f in [
        "scenario.toml",
        "manifest.toml",
        "summary.csv",
        "series.csv",
    ] {
        fs::copy(
            common::path(&format!("tests/fixtures/compare/run/{f}")),
            run.join(f),
        )
        .unwrap();
    }
    (dir, run)
}

const POPULATION: &str = "tests/fixtures/compare/observed/population.csv";
const APPLICATIONS: &str = "tests/fixtures/compare/observed/asylum_applications.csv";

/// `fit.csv` rows by (series, place), each a map column → cell.
fn read_fit(path: &Path) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let row: BTreeMap<String, String> = header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect();
            ((row["series"].clone(), row["place"].clone()), row)
        })
        .collect()
}

fn close(cell: &str, expected: f64) {
    let v: f64 = cell
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {cell:?}"));
    assert!(
        (v - expected).abs() < 2e-6,
        "{v} vs {expected} (hand-computed)"
    );
}

#[test]
fn metrics_match_hand_computed_values() {
    let (_tmp, run) = tiny_run();
    let out = diaspora()
        .arg("compare")
        .arg(&run)
        .args(["--observed", POPULATION, "--observed", APPLICATIONS])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let fit = read_fit(&run.join("fit.csv"));
    let ln = f64::ln;

    // Three units: the declared `unhcr_asylum_seekers` is a flow in the run and UNHCR's is a
    // stock, so it is refused; CAN applications have no observed twin.
    assert_eq!(fit.len(), 3, "{fit:?}");
    assert_eq!(
        stderr.trim(),
        "warning: unhcr_asylum_seekers is a flow in the run but a stock in the observed data: not compared"
    );

    // GBR refugees. Years: 2000 sim 0 / obs 0; 2001 sim 3 (band 2.1–3.9) / obs 5 masked, the
    // interval [1, 5]; 2002 sim 10 (band 8.2–19) / obs 20. 2003 is not reported and 2004 is
    // not simulated: both skipped.
    let g = &fit[&("unhcr_refugees".into(), "GBR".into())];
    assert_eq!(
        (
            &*g["measure"],
            &*g["years"],
            &*g["first_year"],
            &*g["last_year"]
        ),
        ("stock", "3", "2000", "2002")
    );
    assert_eq!(g["masked_years"], "1");
    close(
        &g["log1p_rmse"],
        ((ln(11.0) - ln(21.0)).powi(2) / 3.0).sqrt(),
    );
    close(&g["mean_abs_log_ratio"], (0.0 + ln(2.0)) / 2.0); // 3 inside [1,5]; |ln(10/20)|
    close(&g["mase"], (10.0 / 3.0) / ((5.0 + 15.0) / 2.0));
    close(&g["bias"], (0.0 - 0.0) + (3.0 - 5.0) + (10.0 - 20.0));
    close(&g["coverage_90"], 2.0 / 3.0); // 0 in [0,0]; [1,5] meets [2.1,3.9]; 20 > 19

    // CAN refugees: 2001 sim 0 (band 0–0.9) / obs 12; 2002 sim 6 (band 5.1–6.9) / obs 5
    // masked; 2003 sim 100 / obs 100.
    let c = &fit[&("unhcr_refugees".into(), "CAN".into())];
    close(
        &c["log1p_rmse"],
        ((ln(13.0).powi(2) + (ln(7.0) - ln(6.0)).powi(2)) / 3.0).sqrt(),
    );
    close(&c["mean_abs_log_ratio"], (ln(6.0 / 5.0) + 0.0) / 2.0); // sim 0 skipped
    close(
        &c["mase"],
        ((12.0 + 1.0 + 0.0) / 3.0) / ((7.0 + 95.0) / 2.0),
    );
    close(&c["bias"], -12.0 + 1.0 + 0.0);
    close(&c["coverage_90"], 1.0 / 3.0); // 5.1 > 5: the masked interval misses the band

    // GBR applications: 2000 sim 2 / obs 0; 2001 sim 12 / obs 5 (masked) + 10 = [11, 15];
    // 2002 empty cell, not reported; 2003 sim 8 / obs 20. Repeat claims and AFG not counted.
    let a = &fit[&("unhcr_asylum_applications".into(), "GBR".into())];
    assert_eq!((&*a["measure"], &*a["years"]), ("flow", "3"));
    let rmse_a = ((ln(3.0).powi(2) + (ln(9.0) - ln(21.0)).powi(2)) / 3.0).sqrt();
    close(&a["log1p_rmse"], rmse_a);
    close(&a["mean_abs_log_ratio"], (0.0 + ln(20.0 / 8.0)) / 2.0);
    close(
        &a["mase"],
        ((2.0 + 0.0 + 12.0) / 3.0) / ((15.0 + 5.0) / 2.0),
    );
    close(&a["bias"], 2.0 + (12.0 - 15.0) + (8.0 - 20.0));
    close(&a["coverage_90"], 1.0 / 3.0);

    // The distance: equal-weight mean over the three units.
    let d: f64 = [
        "unhcr_refugees/GBR",
        "unhcr_refugees/CAN",
        "unhcr_asylum_applications/GBR",
    ]
    .iter()
    .map(|k| {
        let (s, p) = k.split_once('/').unwrap();
        fit[&(s.to_string(), p.to_string())]["log1p_rmse"]
            .parse::<f64>()
            .unwrap()
    })
    .sum::<f64>()
        / 3.0;
    let line = stdout
        .lines()
        .find(|l| l.starts_with("distance: "))
        .expect("distance line");
    assert!(
        line.starts_with(&format!("distance: {d:.4} (mean log1p RMSE over 3 ")),
        "{line}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("distance")).count(),
        1
    );
    assert!(stdout.contains("unhcr_refugees"), "{stdout}");
}

#[test]
fn origin_defaults_to_the_runs_and_another_is_refused() {
    // The tiny scenario's origin place is `ORG` with iso3 PRK: the default keeps PRK rows, and
    // `--origin prk` (any case) is the same origin.
    let (_tmp, run) = tiny_run();
    diaspora()
        .arg("compare")
        .arg(&run)
        .args(["--observed", POPULATION, "--origin", "prk"])
        .assert()
        .success();
    let fit = read_fit(&run.join("fit.csv"));
    let g = &fit[&("unhcr_refugees".into(), "GBR".into())];
    assert_eq!((&*g["years"], &*g["first_year"]), ("3", "2000"));
    // Another origin's records (the AFG rows) are refused, and fit.csv is left as it was.
    let before = fs::read(run.join("fit.csv")).unwrap();
    let e = one_line_error(&[
        "compare",
        run.to_str().unwrap(),
        "--observed",
        POPULATION,
        "--origin",
        "afg",
    ]);
    assert_eq!(
        e,
        "error: --origin AFG: the run's origin is PRK (its origin place's iso3); compare it with PRK's records (leave out --origin)\n"
    );
    assert_eq!(fs::read(run.join("fit.csv")).unwrap(), before);
}

/// Observed tables that would add a published count twice, or hold a fractional count, and a
/// run's `series.csv` with several replicates given as the observed record: one line each,
/// exit 2, nothing written.
#[test]
fn repeated_keys_fractional_counts_and_replicates_are_refused() {
    let (_tmp, run) = tiny_run();
    let run_s = run.to_str().unwrap();
    for (observed, expected) in [
        (
            "tests/fixtures/compare/invalid/population_repeated_key.csv",
            "tests/fixtures/compare/invalid/population_repeated_key.csv:4: repeats the key of line 3 (year 2001, coo_iso PRK, coa_iso GBR): each count may be published once",
        ),
        (
            "tests/fixtures/compare/invalid/population_fractional_count.csv",
            "tests/fixtures/compare/invalid/population_fractional_count.csv:3: column `refugees`: expected a count (a whole number >= 0), found \"2.5\"",
        ),
        (
            "tests/fixtures/compare/run/series.csv",
            "tests/fixtures/compare/run/series.csv:46: replicate 1 after replicate 0: observed data are one record, not a run's replicates (keep one replicate's rows)",
        ),
    ] {
        let e = one_line_error(&["compare", run_s, "--observed", observed]);
        assert_eq!(e, format!("error: {expected}\n"));
        assert!(!run.join("fit.csv").exists(), "{observed}");
    }
}

fn one_line_error(args: &[&str]) -> String {
    let out = diaspora().args(args).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn bad_inputs_are_one_line_and_exit_2() {
    let (_tmp, run) = tiny_run();
    let run_s = run.to_str().unwrap();
    let e = one_line_error(&[
        "compare",
        run_s,
        "--observed",
        "tests/fixtures/compare/invalid/population_without_coa_iso.csv",
    ]);
    assert_eq!(
        e,
        "error: tests/fixtures/compare/invalid/population_without_coa_iso.csv:1: missing required column `coa_iso` (needed in UNHCR's population table)\n"
    );
    assert!(!run.join("fit.csv").exists());
    let e = one_line_error(&["compare", "no/such/run"]);
    assert!(e.contains("no/such/run: no such run directory"), "{e}");
    let e = one_line_error(&["compare", run_s, "--observed", "no/such/file.csv"]);
    assert!(e.contains("no/such/file.csv: cannot read"), "{e}");
    if cfg!(feature = "plot") {
        let e = one_line_error(&["plot", "no/such/run"]);
        assert!(e.contains("no such run directory"), "{e}");
    }

    fs::remove_file(run.join("summary.csv")).unwrap();
    let e = one_line_error(&["compare", run_s, "--observed", POPULATION]);
    assert!(
        e.contains("summary.csv: listed in manifest.toml but missing"),
        "{e}"
    );
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[cfg(feature = "plot")]
#[test]
fn plots_are_valid_png_and_svg_with_their_titles() {
    let (_tmp, run) = tiny_run();
    let observed = ["--observed", POPULATION, "--observed", APPLICATIONS];
    diaspora()
        .arg("plot")
        .arg(&run)
        .args(observed)
        .assert()
        .success();
    let figures = run.join("figures");
    let stems = [
        "figure1-arrivals-applications",
        "figure2-hosts-by-year",
        "figure3-main-hosts",
        "figure4-unobservables",
    ];
    for stem in stems {
        let bytes = fs::read(figures.join(format!("{stem}.png"))).unwrap();
        let (w, h) = png_size(&bytes);
        assert!(w >= 2000 && h >= 1000, "{stem}: {w}×{h}");
        assert!(bytes.len() > 20_000, "{stem}: {} bytes", bytes.len());
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().expect("decodable PNG");
        assert_eq!((reader.info().width, reader.info().height), (w, h));
    }

    let svg_dir = run.join("svg");
    diaspora()
        .arg("plot")
        .arg(&run)
        .args(observed)
        .args(["--format", "svg", "--out"])
        .arg(&svg_dir)
        .assert()
        .success();
    let titles = [
        "Arrivals in the resettlement country and asylum applications elsewhere",
        "Refugees and asylum-seekers by host and year",
        "Refugee stock and asylum applications in the main hosts",
        "What the statistics do not count (simulated)",
    ];
    for (stem, title) in stems.iter().zip(titles) {
        let text = fs::read_to_string(svg_dir.join(format!("{stem}.svg"))).unwrap();
        assert!(text.starts_with("<svg"), "{stem}");
        assert!(text.trim_end().ends_with("</svg>"), "{stem}");
        assert!(text.contains(title), "{stem}: title");
        assert!(
            text.contains("scenario tiny, seed 11, 3 replicate(s)"),
            "{stem}: run"
        );
    }
    let heat = fs::read_to_string(svg_dir.join("figure2-hosts-by-year.svg")).unwrap();
    assert!(
        heat.matches("\nGBR\n</text>").count() == 2 && heat.contains("\nCAN\n</text>"),
        "host rows"
    );
}

#[cfg(not(feature = "plot"))]
#[test]
fn plot_says_it_was_built_without_plotting() {
    let (_tmp, run) = tiny_run();
    let e = one_line_error(&["plot", run.to_str().unwrap()]);
    assert!(e.contains("built without plotting"), "{e}");
}

/// The README's sequence: run the baseline, then compare and plot its directory.
#[test]
fn compare_and_plot_work_straight_after_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("baseline");
    diaspora()
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
    let assert = diaspora().arg("compare").arg(&out).assert().success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("(origin PRK)"), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("distance: "));
    let fit = read_fit(&out.join("fit.csv"));
    for place in ["GBR", "CAN", "DEU", "USA"] {
        let r = &fit[&("unhcr_refugees".to_string(), place.to_string())];
        assert_eq!(r["measure"], "stock");
        assert!(r["years"].parse::<u32>().unwrap() >= 15, "{place}: {r:?}");
    }
    let mou = &fit[&("mou_arrivals".to_string(), "KOR".to_string())];
    assert_eq!((&*mou["first_year"], &*mou["last_year"]), ("1990", "2025"));
    if cfg!(feature = "plot") {
        diaspora().arg("plot").arg(&out).assert().success();
        let png = fs::read(out.join("figures/figure3-main-hosts.png")).unwrap();
        png_size(&png);
    }
}
