//! The observed-data loaders: UNHCR's own table layout read unchanged (specific values, masked
//! cells, the origin filter, missing rows absent), and the same numbers as the project's files.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use diaspora::observed::{self, Measure, Observed, Point};

fn fixture(rel: &str) -> PathBuf {
    common::path(&format!("tests/fixtures/{rel}"))
}

fn point(value: f64, masked_cells: u32) -> Point {
    Point {
        value,
        masked_cells,
    }
}

fn series(obs: &Observed, name: &str, place: &str) -> BTreeMap<i32, Point> {
    obs.get(name, place, "total").cloned().unwrap_or_default()
}

#[test]
fn unhcr_population_table_values_masks_origin_and_absent_rows() {
    let obs =
        observed::load_unhcr_file(&fixture("compare/observed/population.csv"), "PRK").unwrap();
    // 2003 has no GBR row: not reported, absent (not zero). 2000 is a published zero.
    assert_eq!(
        series(&obs, "unhcr_refugees", "GBR"),
        [
            (2000, point(0.0, 0)),
            (2001, point(5.0, 1)),
            (2002, point(20.0, 0)),
            (2004, point(7.0, 0)),
        ]
        .into()
    );
    // CAN 2002 has an empty asylum_seekers cell: not reported for that measure only.
    assert_eq!(
        series(&obs, "unhcr_asylum_seekers", "CAN"),
        [(2001, point(5.0, 1)), (2003, point(0.0, 0))].into()
    );
    assert_eq!(series(&obs, "unhcr_refugees", "CAN")[&2002], point(5.0, 1));
    assert_eq!(obs.measures["unhcr_refugees"], Measure::Stock);
    assert_eq!(obs.measures["unhcr_asylum_seekers"], Measure::Stock);

    // The AFG row is another origin's.
    let afg =
        observed::load_unhcr_file(&fixture("compare/observed/population.csv"), "AFG").unwrap();
    assert_eq!(
        series(&afg, "unhcr_refugees", "GBR"),
        [(2001, point(300.0, 0))].into()
    );
    assert_eq!(afg.series.len(), 2);
}

#[test]
fn unhcr_applications_sum_new_claims_and_count_masked_cells() {
    let obs =
        observed::load_unhcr_file(&fixture("compare/observed/asylum_applications.csv"), "PRK")
            .unwrap();
    // 2001: N 5 (masked) + V 10 = 15 with one masked cell, so [11, 15]; the repeat claim (R,
    // 50) and the AFG row (1000) are not counted; 2002's empty cell is not reported.
    let gbr = series(&obs, "unhcr_asylum_applications", "GBR");
    assert_eq!(
        gbr,
        [
            (2000, point(0.0, 0)),
            (2001, point(15.0, 1)),
            (2003, point(20.0, 0)),
        ]
        .into()
    );
    assert_eq!(gbr[&2001].lower(), 11.0);
    assert_eq!(obs.measures["unhcr_asylum_applications"], Measure::Flow);
}

#[test]
fn unhcr_tables_as_downloaded_give_the_projects_numbers() {
    let project = observed::load_project_dir(&common::path("data/observed"), Some("PRK")).unwrap();
    let mut unhcr = Observed::default();
    for f in [
        "population_prk.csv",
        "asylum_applications_prk.csv",
        "asylum_decisions_prk.csv",
    ] {
        unhcr.extend(
            observed::load_unhcr_file(&fixture(&format!("unhcr-layout/{f}")), "PRK").unwrap(),
        );
    }
    let of = |o: &Observed| -> BTreeMap<_, _> {
        o.series
            .iter()
            .filter(|(k, _)| k.series.starts_with("unhcr_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (p, u) = (of(&project), of(&unhcr));
    assert_eq!(p.len(), u.len());
    assert!(p.len() > 100, "{} series", p.len());
    for (k, v) in &p {
        assert_eq!(Some(v), u.get(k), "{k:?}");
    }
    // Spot checks against the published table.
    assert_eq!(
        series(&unhcr, "unhcr_refugees", "GBR")[&2008],
        point(570.0, 0)
    );
    assert_eq!(
        series(&unhcr, "unhcr_asylum_seekers", "CAN")[&2014],
        point(5.0, 1)
    );
    for (s, m) in &unhcr.measures {
        assert_eq!(project.measures.get(s), Some(m), "{s}");
    }
    // A later source replaces an earlier one's series whole.
    let both = observed::load_sources(
        &[
            common::path("data/observed"),
            fixture("compare/observed/population.csv"),
        ],
        "PRK",
    )
    .unwrap();
    assert_eq!(
        series(&both, "unhcr_refugees", "GBR")[&2002],
        point(20.0, 0)
    );
    assert!(!series(&both, "unhcr_refugees", "GBR").contains_key(&2008));
    // (data/observed's quirks drop Germany's 2000-2001 zeros in both reads.)
    let alone = observed::load_sources(&[common::path("data/observed")], "PRK").unwrap();
    assert_eq!(
        series(&both, "unhcr_refugees", "DEU"),
        series(&alone, "unhcr_refugees", "DEU")
    );
}

#[test]
fn headers_tell_the_table_and_a_missing_column_is_named() {
    let e = observed::load_unhcr_file(
        &fixture("compare/invalid/population_without_coa_iso.csv"),
        "PRK",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with("population_without_coa_iso.csv:1: missing required column `coa_iso` (needed in UNHCR's population table)"),
        "{e}"
    );
    // The project's MOU file is not a UNHCR table.
    let e = observed::load_unhcr_file(
        &common::path("data/observed/mou_defector_arrivals_south_korea.csv"),
        "PRK",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains(":1: not a table in UNHCR's layout"), "{e}");
}

const CHECKS_OBSERVED: &str = "tests/fixtures/compare/checks/observed";

/// Every (key, year) → value of `obs`.
fn points(obs: &Observed) -> BTreeMap<(observed::SeriesKey, i32), Point> {
    obs.series
        .iter()
        .flat_map(|(k, s)| s.iter().map(move |(&y, &p)| ((k.clone(), y), p)))
        .collect()
}

#[test]
fn declared_quirks_drop_exactly_the_declared_points() {
    let dir = common::path(CHECKS_OBSERVED);
    let raw = observed::load_project_dir(&dir, Some("PRK")).unwrap();
    let read = observed::load_sources(std::slice::from_ref(&dir), "PRK").unwrap();
    let (raw_points, read_points) = (points(&raw), points(&read));
    // quirks.toml declares CAN refugees 2003 (a published 0) and GBR refugees 1990-1991 (no
    // such years): exactly one value goes, nothing else changes.
    let gone: Vec<_> = raw_points
        .keys()
        .filter(|k| !read_points.contains_key(k))
        .collect();
    assert_eq!(gone.len(), 1, "{gone:?}");
    let (key, year) = gone[0];
    assert_eq!(
        (key.series.as_str(), key.place.as_str(), *year),
        ("unhcr_refugees", "CAN", 2003)
    );
    assert_eq!(raw_points[gone[0]], point(0.0, 0));
    assert!(read_points.iter().all(|(k, p)| raw_points[k] == *p));
    assert_eq!(
        read.dropped,
        [observed::Dropped {
            file: dir.join("quirks.toml"),
            values: 1
        }]
    );
    assert!(read.files.contains(&dir.join("quirks.toml")));
    // The same quirks through `load` (every origin: sweeps) and none without a quirks file.
    assert_eq!(
        points(&observed::load(&dir).unwrap()).len(),
        raw_points.len() - 1
    );
    let plain =
        observed::load_sources(&[fixture("compare/observed/population.csv")], "PRK").unwrap();
    assert!(plain.dropped.is_empty());
}

#[test]
fn a_csv_files_quirks_sit_beside_it_and_bad_ones_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("population.csv");
    std::fs::copy(fixture("compare/observed/population.csv"), &csv).unwrap();
    let quirks = dir.path().join("population.quirks.toml");
    std::fs::write(
        &quirks,
        "[[quirk]]\nseries = \"unhcr_refugees\"\nplace = \"GBR\"\nyears = [2000, 2001]\nreason = \"test\"\n",
    )
    .unwrap();
    let raw = observed::load_unhcr_file(&csv, "PRK").unwrap();
    let read = observed::load_sources(std::slice::from_ref(&csv), "PRK").unwrap();
    let years = |o: &Observed| {
        series(o, "unhcr_refugees", "GBR")
            .into_keys()
            .collect::<Vec<_>>()
    };
    assert_eq!(years(&raw), [2000, 2001, 2002, 2004]);
    assert_eq!(years(&read), [2002, 2004]);
    assert_eq!(read.dropped[0].values, 2);

    for (text, expected) in [
        (
            "[[quirk]]\nseries = \"a\"\nplace = \"B\"\nyears = [2001, 2000]\nreason = \"r\"\n",
            ":4:9: quirk.0.years: expected [first, last] with first <= last, found [2001, 2000]",
        ),
        (
            "[[quirk]]\nseries = \"a\"\nplace = \"B\"\nyears = [2000, 2001]\nreason = \"  \"\n",
            ":5:10: quirk.0.reason: expected the reason these values are not reports, found an empty string",
        ),
        (
            "[[quirk]]\nseries = \"a\"\nplace = \"B\"\nyear = [2000, 2001]\nreason = \"r\"\n",
            ":4:1: quirk.0.year: unknown key",
        ),
    ] {
        std::fs::write(&quirks, text).unwrap();
        let e = observed::load_sources(std::slice::from_ref(&csv), "PRK")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&quirks.display().to_string()) && e.contains(expected),
            "{e}"
        );
    }
}

#[test]
fn estimates_are_read_as_intervals() {
    let obs = observed::load_project_dir(&common::path(CHECKS_OBSERVED), Some("PRK")).unwrap();
    let read: Vec<(i32, bool, f64, f64, &str)> = obs
        .estimates
        .iter()
        .map(|e| {
            assert_eq!(
                (e.series.as_str(), e.country.as_str()),
                ("hidden_in_transit", "CHN")
            );
            (e.year, e.approximate, e.low, e.high, e.source.as_str())
        })
        .collect();
    // Undated (E5), the NGO series (E6) and the sub-region (E7) are not read; E8 (2010) is
    // read, the run decides whether it is compared.
    assert_eq!(
        read,
        [
            (2000, false, 140.0, 200.0, "E1"),
            (2001, false, 500.0, 900.0, "E2"),
            (2002, true, 50.0, 50.0, "E3"),
            (2003, false, 10.0, f64::INFINITY, "E4"),
            (2010, false, 1.0, 2.0, "E8"),
        ]
    );
    // Estimates are of North Koreans: not read for another origin.
    let other = observed::load_project_dir(&common::path(CHECKS_OBSERVED), Some("AFG")).unwrap();
    assert!(other.estimates.is_empty());
    // The project's own file: 12 estimates of people hiding in China, 1998-2011.
    let project = observed::load_project_dir(&common::path("data/observed"), Some("PRK")).unwrap();
    assert_eq!(project.estimates.len(), 12);
    assert_eq!(
        (
            project.estimates[0].year,
            project.estimates[0].low,
            project.estimates[0].high
        ),
        (1998, 50_000.0, 130_000.0)
    );
}

/// The key of each table: rows that differ in a key column (the application type) are summed,
/// rows that repeat every key column are refused — in UNHCR's layout, the project's files and
/// the tidy layout alike; a project count must be a whole number.
#[test]
fn a_repeated_key_is_refused_and_distinct_keys_are_summed() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let head = "year,coo_iso,coa_iso,procedure_type,app_type,dec_level,app_pc,applied\n";
    let n = "2001,PRK,GBR,G,N,FI,P,10\n";
    let v = "2001,PRK,GBR,G,V,FI,P,7\n";
    let summed = write("a.csv", &format!("{head}{n}{v}"));
    let obs = observed::load_unhcr_file(&summed, "PRK").unwrap();
    assert_eq!(
        series(&obs, "unhcr_asylum_applications", "GBR"),
        [(2001, point(17.0, 0))].into()
    );
    let repeated = write("b.csv", &format!("{head}{n}{v}{n}"));
    let e = observed::load_unhcr_file(&repeated, "PRK").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:4: repeats the key of line 2 (year 2001, coo_iso PRK, coa_iso GBR, procedure_type G, app_type N, dec_level FI, app_pc P): each count may be published once",
            repeated.display()
        )
    );

    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let stock = "series,origin,asylum_country_iso3,asylum_country,year,value,flag,source_id\n\
                 refugees_stock_end_year,PRK,GBR,UK,2001,12,,x\n";
    let file = project.join("unhcr_prk_population_stock.csv");
    std::fs::write(
        &file,
        format!("{stock}refugees_stock_end_year,PRK,GBR,UK,2001,12,,y\n"),
    )
    .unwrap();
    let e = observed::load(&project).unwrap_err().to_string();
    assert!(
        e.ends_with(":3: repeats the key of line 2 (series refugees_stock_end_year, origin PRK, asylum_country_iso3 GBR, year 2001): each count may be published once"),
        "{e}"
    );
    std::fs::write(
        &file,
        format!("{stock}refugees_stock_end_year,PRK,CAN,Canada,2001,0.5,,y\n"),
    )
    .unwrap();
    let e = observed::load(&project).unwrap_err().to_string();
    assert!(
        e.ends_with(":3: column `value`: expected a count (a whole number >= 0), found \"0.5\""),
        "{e}"
    );

    let tidy = write(
        "tidy.csv",
        "year,series,place,sex,value\n2001,x,GBR,total,0.25\n2001,x,GBR,total,3\n",
    );
    let e = observed::load_tidy_file(&tidy).unwrap_err();
    assert!(
        e.to_string().ends_with(
            ":3: repeats the key of line 2 (year 2001, series x, place GBR, sex total): each count may be published once"
        ),
        "{e}"
    );
}
