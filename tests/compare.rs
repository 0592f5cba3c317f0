//! `diaspora compare` and `diaspora plot` on real files: every metric against numbers worked
//! out by hand on a tiny run directory (zeros, masked 5s, missing years, another origin's
//! rows), a year range, the untargeted checks (estimates as intervals, host counts, female
//! shares), the `targeted` column, declared quirks, clear errors with exit code 2, figures
//! that are valid files, and both commands straight after `diaspora run`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use diaspora::output::folder;

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
        heat.matches("aria-label=\"GBR\"").count() == 2 && heat.contains("aria-label=\"CAN\""),
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

fn stdout_of(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn years_restrict_fit_csv_the_table_and_the_distance() {
    let (_tmp, run) = tiny_run();
    let out = diaspora()
        .arg("compare")
        .arg(&run)
        .args(["--observed", POPULATION, "--observed", APPLICATIONS])
        .args(["--years", "2001:2002"])
        .assert()
        .success();
    let stdout = stdout_of(&out);
    let fit = read_fit(&run.join("fit.csv"));
    let ln = f64::ln;
    assert_eq!(fit.len(), 3, "{fit:?}");
    // GBR refugees, 2001-2002 only: 2001 sim 3 inside [1, 5] (no error); 2002 sim 10 vs 20.
    let g = &fit[&("unhcr_refugees".into(), "GBR".into())];
    assert_eq!(
        (
            &*g["years"],
            &*g["first_year"],
            &*g["last_year"],
            &*g["masked_years"]
        ),
        ("2", "2001", "2002", "1")
    );
    let rmse_g = ((ln(11.0) - ln(21.0)).powi(2) / 2.0).sqrt();
    close(&g["log1p_rmse"], rmse_g);
    close(&g["bias"], (3.0 - 5.0) + (10.0 - 20.0));
    close(&g["mase"], (10.0 / 2.0) / 15.0);
    // CAN refugees: 2001 sim 0 vs 12; 2002 sim 6 vs [1, 5].
    let c = &fit[&("unhcr_refugees".into(), "CAN".into())];
    let rmse_c = ((ln(13.0).powi(2) + (ln(7.0) - ln(6.0)).powi(2)) / 2.0).sqrt();
    close(&c["log1p_rmse"], rmse_c);
    // GBR applications: 2001 sim 12 inside [11, 15]; 2002 not reported: one year, no error.
    let a = &fit[&("unhcr_asylum_applications".into(), "GBR".into())];
    assert_eq!((&*a["years"], &*a["first_year"]), ("1", "2001"));
    close(&a["log1p_rmse"], 0.0);
    let d = (rmse_g + rmse_c + 0.0) / 3.0;
    let line = stdout.lines().last().unwrap();
    assert_eq!(
        line,
        format!(
            "distance: {d:.4} (mean log1p RMSE over 3 series × place units of sex total, equal weights, years 2001–2002)"
        )
    );
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("(origin PRK, years 2001–2002):")
    );

    // A single year is a range of one.
    diaspora()
        .arg("compare")
        .arg(&run)
        .args(["--observed", POPULATION, "--years", "2003"])
        .assert()
        .success();
    let fit = read_fit(&run.join("fit.csv"));
    assert_eq!(fit.len(), 1, "{fit:?}"); // only CAN refugees have 2003
    assert_eq!(fit[&("unhcr_refugees".into(), "CAN".into())]["years"], "1");
}

#[test]
fn bad_year_ranges_are_one_line_and_exit_2_and_write_nothing() {
    let (_tmp, run) = tiny_run();
    let run_s = run.to_str().unwrap();
    for (years, expected) in [
        (
            "2003:2001",
            "error: --years 2003:2001: the first year (2003) is after the last (2001)\n",
        ),
        (
            "2010:2012",
            "error: --years 2010:2012: no observed year in 2010–2012 (observed and simulated: 2000–2003)\n",
        ),
        (
            "2001-2003",
            "error: --years 2001-2003: expected FIRST:LAST (two years, e.g. 2016:2019), found \"2001-2003\"\n",
        ),
    ] {
        let e = one_line_error(&[
            "compare",
            run_s,
            "--observed",
            APPLICATIONS,
            "--years",
            years,
        ]);
        assert_eq!(e, expected);
        assert!(!run.join("fit.csv").exists());
    }
}

/// A copy of the checks fixture's run directory, its manifest completed with the hashes of its
/// files (`tests/fixtures/compare/README.md`).
fn checks_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("checks");
    fs::create_dir(&run).unwrap();
    let fixture = |f: &str| common::path(&format!("tests/fixtures/compare/checks/run/{f}"));
    let mut manifest = fs::read_to_string(fixture("manifest.toml")).unwrap();
    manifest.push_str("\n[files]\n");
    for f in ["scenario.toml", "series.csv", "summary.csv"] {
        fs::copy(fixture(f), run.join(f)).unwrap();
        let hash = folder::file_hash(&run.join(f)).unwrap();
        manifest.push_str(&format!("{f:?} = {hash:?}\n"));
    }
    fs::write(run.join("manifest.toml"), manifest).unwrap();
    (dir, run)
}

const CHECKS_OBSERVED: &str = "tests/fixtures/compare/checks/observed";
const CHECKS_CALIBRATION: &str = "tests/fixtures/compare/checks/calibration.toml";

#[test]
fn untargeted_checks_match_hand_computed_values() {
    let (_tmp, run) = checks_run();
    let out = diaspora()
        .arg("compare")
        .arg(&run)
        .args(["--observed", CHECKS_OBSERVED])
        .assert()
        .success();
    let stdout = stdout_of(&out);
    let rows = common::fit_rows(&run.join("fit.csv"));
    let ln = f64::ln;
    // Series rows first, then the checks: intervals, host counts, female shares.
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str()).collect();
    let checks = kinds.iter().position(|&k| k != "series").unwrap();
    assert!(checks > 0 && kinds[..checks].iter().all(|&k| k == "series"));
    assert_eq!(
        &kinds[checks..],
        ["interval", "count", "count", "count", "count", "share"]
    );
    // No calibration is known: `targeted` is empty on every row.
    assert!(rows.iter().all(|r| r["targeted"].is_empty()), "{rows:?}");

    // Hidden in China = CHA + CHB replicate by replicate (MNG is not in China). Sums:
    // 2000 [150, 130, 130] -> band [130, 148], median 130; 2001 [200, 210, 220] -> [201, 219],
    // 210; 2002 [65, 75, 85] -> [66, 84], 75; 2003 [20, 30, 40] -> [21, 39], 30.
    // Estimates: E1 [140, 200] matched; E2 [500, 900] missed, band below; E3 (c.2002) the
    // point 50, missed, band above; E4 [10, ∞) matched. E5-E8 are not compared.
    let h = common::fit_row(&rows, "hidden_in_transit", "CHN", "total");
    assert_eq!(
        (
            &*h["measure"],
            &*h["years"],
            &*h["first_year"],
            &*h["last_year"],
            &*h["masked_years"],
            &*h["mase"]
        ),
        ("stock", "4", "2000", "2003", "3", "")
    );
    close(&h["coverage_90"], 0.5);
    let (gap2, gap3) = (ln(501.0) - ln(220.0), ln(67.0) - ln(51.0));
    close(&h["log_gap"], (gap2 + gap3) / 2.0);
    // Medians to the nearest end: 130 vs 140, 210 vs 500, 75 vs 50, 30 inside.
    let errors = [
        ln(131.0) - ln(141.0),
        ln(211.0) - ln(501.0),
        ln(76.0) - ln(51.0),
        0.0,
    ];
    close(
        &h["log1p_rmse"],
        (errors.iter().map(|e| e * e).sum::<f64>() / 4.0).sqrt(),
    );
    close(&h["mae"], (10.0 + 290.0 + 25.0 + 0.0) / 4.0);
    close(&h["bias"], -10.0 - 290.0 + 25.0);
    assert!(
        stdout.contains("(E2)") && stdout.contains("band below, log gap"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("(E5)") && !stdout.contains("(E8)"),
        "{stdout}"
    );

    // Host counts. Observed (refugees + asylum-seekers; CAN 2003 refugees is a declared quirk):
    //   2000 GBR 30, CAN 5 (masked: 1-5), FRA 40; 2001 GBR 20 + 5 (masked: 21-25), CAN 0,
    //   FRA 5 (masked); 2002 GBR 24 + 5 (masked: 25-29), CAN 26; 2003 GBR 100, CAN 7, FRA 0.
    // Simulated hosts_with_any [2,2,2] [1,2,3] [2,2,2] [2,2,2]: bands [2,2] [1.1,2.9] [2,2]
    // [2,2], medians 2; hosts_with_over_25 [1,1,1] [0,0,1] [1,1,1] [1,1,1]: medians 1,0,1,1.
    // any, modelled hosts (GBR, CAN): 2, 1, 2, 2 -> 2001 misses the band by ln 2.1 - ln 2.
    let any = common::fit_row(&rows, "hosts_with_any", "MODELLED", "total");
    close(&any["log1p_rmse"], (ln(3.0) - ln(2.0)) / 2.0);
    close(&any["coverage_90"], 0.75);
    close(&any["log_gap"], ln(2.1) - ln(2.0));
    close(&any["bias"], 1.0);
    close(&any["mae"], 0.25);
    close(&any["mase"], 0.25 / (2.0 / 3.0));
    // any, every country: 3, 2, 2, 2 -> 2000 misses [2, 2] by ln 4 - ln 3.
    let any_all = common::fit_row(&rows, "hosts_with_any", "ALL", "total");
    close(&any_all["log1p_rmse"], (ln(4.0) - ln(3.0)) / 2.0);
    close(&any_all["coverage_90"], 0.75);
    close(&any_all["bias"], -1.0);
    // over 25, modelled: 1, 0, [1, 2] (GBR is 25-29), 1: the simulated 1, 0, 1, 1 fit.
    let over = common::fit_row(&rows, "hosts_with_over_25", "MODELLED", "total");
    assert_eq!(over["masked_years"], "1");
    close(&over["log1p_rmse"], 0.0);
    close(&over["coverage_90"], 1.0);
    close(&over["bias"], -1.0);
    assert_eq!(over["log_gap"], "");
    // over 25, every country: 2, 0, [1, 2], 1.
    let over_all = common::fit_row(&rows, "hosts_with_over_25", "ALL", "total");
    close(&over_all["log1p_rmse"], (ln(3.0) - ln(2.0)) / 2.0);
    close(&over_all["bias"], -2.0);

    // Female share of MOU arrivals: observed 80/100, 100/200, 40/50 (2002: no preferred female
    // row). Simulated shares replicate by replicate: 2000 [.7, .8, .9] -> .8 [.71, .89];
    // 2001 [.6, .5, .8] -> .6 [.51, .78] (the ratio of medians, 50/100, would say .5);
    // 2003 [.5, .6, .7] -> .6 [.51, .69].
    let share = common::fit_row(&rows, "mou_arrivals_female_share", "KOR", "female");
    assert_eq!(
        (&*share["kind"], &*share["measure"], &*share["years"]),
        ("share", "flow", "3")
    );
    close(&share["mae"], (0.0 + 0.1 + 0.2) / 3.0);
    close(&share["bias"], 0.0 + 0.1 - 0.2);
    close(&share["coverage_90"], 1.0 / 3.0);
    close(
        &share["log_gap"],
        ((ln(1.51) - ln(1.5)) + (ln(1.8) - ln(1.69))) / 2.0,
    );
    close(
        &share["log1p_rmse"],
        (((ln(1.6) - ln(1.5)).powi(2) + (ln(1.6) - ln(1.8)).powi(2)) / 3.0).sqrt(),
    );

    // The declared quirk: CAN refugees 2003 (a published 0) is not compared, and compare says so.
    assert_eq!(
        common::fit_row(&rows, "unhcr_refugees", "CAN", "total")["years"],
        "3"
    );
    assert_eq!(
        common::fit_row(&rows, "unhcr_refugees", "GBR", "total")["years"],
        "4"
    );
    assert!(
        stdout.contains(&format!(
            "\nquirks: 1 values read as not reported ({CHECKS_OBSERVED}/quirks.toml)\n"
        )),
        "{stdout}"
    );
    // The checks are not part of the distance (the series rows alone).
    let series: Vec<f64> = rows
        .iter()
        .filter(|r| r["kind"] == "series" && r["sex"] == "total")
        .map(|r| r["log1p_rmse"].parse::<f64>().unwrap())
        .collect();
    let d = series.iter().sum::<f64>() / series.len() as f64;
    assert!(
        stdout.lines().last().unwrap().starts_with(&format!(
            "distance: {d:.4} (mean log1p RMSE over {} ",
            series.len()
        )),
        "{stdout}"
    );

    // With --years the checks keep only those years: E2 and E3.
    diaspora()
        .arg("compare")
        .arg(&run)
        .args(["--observed", CHECKS_OBSERVED, "--years", "2001:2002"])
        .assert()
        .success();
    let rows = common::fit_rows(&run.join("fit.csv"));
    let h = common::fit_row(&rows, "hidden_in_transit", "CHN", "total");
    assert_eq!((&*h["years"], &*h["coverage_90"]), ("2", "0"));
    close(&h["log_gap"], (gap2 + gap3) / 2.0);
    assert_eq!(
        common::fit_row(&rows, "hosts_with_any", "ALL", "total")["years"],
        "2"
    );
}

#[test]
fn targeted_marks_the_rows_the_calibration_fitted() {
    let (tmp, run) = checks_run();
    let compare = |extra: &[&str]| {
        diaspora()
            .arg("compare")
            .arg(&run)
            .args(["--observed", CHECKS_OBSERVED])
            .args(extra)
            .assert()
            .success();
        common::fit_rows(&run.join("fit.csv"))
    };
    let targeted = |rows: &[BTreeMap<String, String>], s: &str, p: &str, x: &str| {
        common::fit_row(rows, s, p, x)["targeted"].clone()
    };
    // The calibration targets MOU total (every year), MOU female in 2000-2001 and GBR refugees
    // in 2010-2020 (years this run does not compare).
    let rows = compare(&["--targets", CHECKS_CALIBRATION]);
    for (s, p, x, expected) in [
        ("mou_arrivals", "KOR", "total", "true"),
        ("mou_arrivals", "KOR", "female", "true"),
        ("unhcr_refugees", "GBR", "total", "false"),
        ("unhcr_refugees", "CAN", "total", "false"),
        ("unhcr_asylum_seekers", "GBR", "total", "false"),
        ("hidden_in_transit", "CHN", "total", "false"),
        ("hosts_with_any", "MODELLED", "total", "false"),
        ("hosts_with_over_25", "ALL", "total", "false"),
        // The share is fitted through its parts: both female and total are targets.
        ("mou_arrivals_female_share", "KOR", "female", "true"),
    ] {
        assert_eq!(targeted(&rows, s, p, x), expected, "{s} {p} {x}");
    }
    assert!(rows.iter().all(|r| !r["targeted"].is_empty()));
    // In 2003 the female series was not a target: neither it nor the share was fitted.
    let rows = compare(&["--targets", CHECKS_CALIBRATION, "--years", "2003:2003"]);
    assert_eq!(targeted(&rows, "mou_arrivals", "KOR", "female"), "false");
    assert_eq!(targeted(&rows, "mou_arrivals", "KOR", "total"), "true");

    // A calibration's predictive/ folder: the targets of the calibration.toml beside it.
    let cal = tmp.path().join("cal");
    fs::create_dir(&cal).unwrap();
    fs::write(
        cal.join("calibration.toml"),
        "calibration = \"hand\"\ntargets = [\"unhcr_refugees GBR total (4 years, weight 1)\"]\n",
    )
    .unwrap();
    let predictive = cal.join("predictive");
    fs::rename(&run, &predictive).unwrap();
    let out = diaspora()
        .arg("compare")
        .arg(&predictive)
        .args(["--observed", CHECKS_OBSERVED])
        .assert()
        .success();
    let rows = common::fit_rows(&predictive.join("fit.csv"));
    assert_eq!(targeted(&rows, "unhcr_refugees", "GBR", "total"), "true");
    assert_eq!(targeted(&rows, "mou_arrivals", "KOR", "total"), "false");
    assert!(
        stdout_of(&out).contains(&format!(
            "targeted: 1 of {} rows use data the calibration fitted (1 targets in {})",
            rows.len(),
            cal.join("calibration.toml").display()
        )),
        "{}",
        stdout_of(&out)
    );
    // The same folder named with --targets; a file that is neither is refused in one line.
    let rows_named = {
        diaspora()
            .arg("compare")
            .arg(&predictive)
            .args(["--observed", CHECKS_OBSERVED, "--targets"])
            .arg(&cal)
            .assert()
            .success();
        common::fit_rows(&predictive.join("fit.csv"))
    };
    assert_eq!(rows_named, rows);
    let e = one_line_error(&[
        "compare",
        predictive.to_str().unwrap(),
        "--targets",
        "no/such/calibration.toml",
    ]);
    assert!(e.contains("no/such/calibration.toml: cannot read"), "{e}");
}
