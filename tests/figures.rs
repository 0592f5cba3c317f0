//! The figures as drawn, read back from their SVG: text is glyph outlines of the embedded font
//! (no `<text>`, no font name), the logarithmic axis puts the powers of ten a decade apart with
//! zero at its foot, and a masked observation (a published 5 meaning 1 to 5) is an interval
//! from 1 to 5, not a point.
#![cfg(feature = "plot")]

use std::collections::BTreeMap;

use diaspora::compare::Band;
use diaspora::observed::{Measure, Point};
use diaspora::plot::data::{
    ArrivalsFigure, HeatmapFigure, HostsFigure, Line, PlotData, UnobservablesFigure,
};
use diaspora::plot::scale::Choice;
use diaspora::plot::{Figure, Format, render};

/// A figure of one line of `measure`: simulated `sim` (median, band ±10%) and observed points
/// `(year, value, masked cells)`, in the arrivals figure and as the one host of the host figure.
fn data(sim: &[(i32, f64)], obs: &[(i32, f64, u32)], y_scale: Choice) -> PlotData {
    let line = |measure| Line {
        label: "line".into(),
        measure,
        sim: sim
            .iter()
            .map(|&(y, v)| {
                let b = Band {
                    p05: 0.9 * v,
                    p50: v,
                    p95: 1.1 * v,
                };
                (y, b)
            })
            .collect(),
        obs: obs
            .iter()
            .map(|&(y, value, masked_cells)| {
                let p = Point {
                    value,
                    masked_cells,
                };
                (y, p)
            })
            .collect(),
        obs_extra: None,
    };
    PlotData {
        run_label: "a figure drawn for a test".into(),
        replicates: 1,
        predictive_draws: None,
        y_scale,
        place_names: BTreeMap::new(),
        years: (2000, 2010),
        arrivals: ArrivalsFigure {
            title: "Arrivals".into(),
            lines: vec![line(Measure::Flow)],
        },
        heatmap: HeatmapFigure {
            rows: Vec::new(),
            observed: Vec::new(),
            simulated: Vec::new(),
            folded: Vec::new(),
        },
        hosts: HostsFigure {
            hosts: vec![("GBR".into(), line(Measure::Stock), None)],
        },
        unobservables: UnobservablesFigure { panels: Vec::new() },
    }
}

fn svg(data: &PlotData, figure: Figure) -> String {
    String::from_utf8(render(data, figure, Format::Svg).unwrap()).unwrap()
}

/// The numbers of an SVG path's data or a polyline's points, as (x, y) pairs.
fn pairs(text: &str) -> Vec<(f64, f64)> {
    let numbers: Vec<f64> = text
        .split(|c: char| c.is_ascii_alphabetic() || c == ' ' || c == ',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    numbers.chunks(2).map(|c| (c[0], c[1])).collect()
}

/// The vertical centre of each text drawn with the label `label`.
fn label_centres(svg: &str, label: &str) -> Vec<f64> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.attribute("aria-label") == Some(label))
        .map(|n| {
            let ys: Vec<f64> = pairs(n.attribute("d").unwrap())
                .iter()
                .map(|p| p.1)
                .collect();
            let lo = ys.iter().copied().fold(f64::MAX, f64::min);
            let hi = ys.iter().copied().fold(f64::MIN, f64::max);
            (lo + hi) / 2.0
        })
        .collect()
}

/// The one text labelled `label`'s vertical centre.
fn centre(svg: &str, label: &str) -> f64 {
    let c = label_centres(svg, label);
    assert_eq!(c.len(), 1, "one text `{label}`: {c:?}");
    c[0]
}

#[test]
fn svg_text_is_drawn_as_outlines_of_the_embedded_font() {
    let d = data(
        &[(2000, 10.0), (2010, 500.0)],
        &[(2005, 80.0, 0)],
        Choice::Auto,
    );
    for figure in Figure::ALL {
        let text = svg(&d, figure);
        let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
        let nodes: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.is_element()).collect();
        assert!(
            nodes.iter().all(|n| n.tag_name().name() != "text"),
            "{figure:?}: a <text> element"
        );
        assert!(
            nodes
                .iter()
                .all(|n| n.attributes().all(|a| !a.name().starts_with("font"))),
            "{figure:?}: a font attribute"
        );
        assert!(!text.contains("@font-face") && !text.contains("sans-serif"));
        let labelled: Vec<&roxmltree::Node> = nodes
            .iter()
            .filter(|n| n.tag_name().name() == "path" && n.has_attribute("aria-label"))
            .collect();
        assert!(labelled.len() >= 3, "{figure:?}: {} texts", labelled.len());
        for n in labelled {
            let label = n.attribute("aria-label").unwrap();
            if label.trim().is_empty() {
                continue;
            }
            let outline = pairs(n.attribute("d").unwrap());
            assert!(outline.len() >= 4, "{figure:?}: `{label}` has no outline");
        }
        assert_eq!(
            label_centres(&text, "a figure drawn for a test").len(),
            1,
            "{figure:?}: the subtitle, once"
        );
    }
}

#[test]
fn the_log_axis_puts_powers_of_ten_a_decade_apart_and_zero_at_its_foot() {
    let sim: Vec<(i32, f64)> = (2000..=2010)
        .map(|y| (y, 10f64.powi(y - 2007) * 1000.0))
        .collect();
    let d = data(&sim, &[(2003, 0.0, 0)], Choice::Log);
    let text = svg(&d, Figure::Arrivals);
    let y: Vec<f64> = ["0", "1", "10", "100", "1,000"]
        .iter()
        .map(|l| centre(&text, l))
        .collect();
    // Axis coordinate log10(1 + v): 0, 0.301, 1.041, 2.004, 3.000.
    let decade = (y[2] - y[4]) / (3.0 - 11f64.log10());
    for (i, v) in [0.0f64, 1.0, 10.0, 100.0, 1000.0].iter().enumerate() {
        let expected = y[0] - decade * v.ln_1p() / 10f64.ln();
        assert!(
            (y[i] - expected).abs() < 1.0,
            "tick {v}: at {}, expected {expected} (ticks {y:?})",
            y[i]
        );
    }
    assert!(decade > 100.0, "a decade is {decade} px");
    // The same data span more than two orders of magnitude: the automatic choice is the same
    // axis; a panel of 5 to 400 stays linear.
    let auto = svg(&data(&sim, &[], Choice::Auto), Figure::Arrivals);
    assert_eq!(label_centres(&auto, "100").len(), 1);
    assert!(label_centres(&auto, "1").len() == 1 && label_centres(&auto, "10").len() == 1);
    let narrow = data(&[(2000, 5.0), (2010, 300.0)], &[], Choice::Auto);
    let linear = svg(&narrow, Figure::Arrivals);
    assert!(label_centres(&linear, "1").is_empty() && label_centres(&linear, "10").is_empty());
    assert_eq!(label_centres(&linear, "100").len(), 1);
}

/// The I-shaped polylines of an SVG: `(x, bottom y, top y)` of each.
fn intervals(svg: &str) -> Vec<(f64, f64, f64)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "polyline")
        .filter_map(|n| {
            let p = pairs(n.attribute("points")?);
            let i_shape = p.len() == 6
                && p[0].1 == p[1].1
                && p[1].1 == p[2].1
                && p[3].1 == p[4].1
                && p[4].1 == p[5].1
                && p[2].0 == p[3].0
                && ((p[0].0 + p[1].0) / 2.0 - p[2].0).abs() <= 1.0
                && p[3].1 < p[2].1;
            i_shape.then(|| (p[2].0, p[2].1, p[3].1))
        })
        .collect()
}

/// Centres of the filled circles of an SVG.
fn dots(svg: &str) -> Vec<(f64, f64)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "circle" && n.attribute("fill") != Some("none"))
        .map(|n| {
            let at = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            (at("cx"), at("cy"))
        })
        .collect()
}

#[test]
fn a_masked_observation_is_an_interval_from_one_to_five() {
    // 2003: a published 5 (masked); 2004: an exact 20; 2006: two masked cells summed, 12
    // published, so 4 to 12.
    let obs = [(2003, 5.0, 1), (2004, 20.0, 0), (2006, 12.0, 2)];
    let sim: Vec<(i32, f64)> = (2000..=2010).map(|y| (y, 300.0)).collect();
    let text = svg(&data(&sim, &obs, Choice::Log), Figure::Hosts);
    let found = intervals(&text);
    // Two in the chart and one in the legend (no data: far below the chart).
    assert_eq!(found.len(), 3, "{found:?}");
    let (one, ten) = (centre(&text, "1"), centre(&text, "10"));
    let per_unit = (one - ten) / (11f64.log10() - 2f64.log10());
    let height = |lo: f64, hi: f64| per_unit * ((1.0 + hi).log10() - (1.0 + lo).log10());
    let (x5, bottom5, top5) = found[0];
    assert!(
        (bottom5 - top5 - height(1.0, 5.0)).abs() < 1.0,
        "1 to 5: {} px, expected {}",
        bottom5 - top5,
        height(1.0, 5.0)
    );
    // Labels sit a few pixels off their ticks (the digits' centre, not the tick's line).
    assert!(
        (bottom5 - one).abs() < 8.0,
        "starts at 1: {bottom5} against {one}"
    );
    let (x12, bottom12, top12) = found[1];
    assert!((bottom12 - top12 - height(4.0, 12.0)).abs() < 1.0);
    // One dot for the exact value, a year to the right of the first interval; none where the
    // values are masked.
    let year = (x12 - x5) / 3.0;
    let all = dots(&text);
    let at = |x: f64| all.iter().filter(|d| (d.0 - x).abs() < 1.0).count();
    assert_eq!(at(x5 + year), 1, "the exact 20 is a point");
    let twenty = all
        .iter()
        .find(|d| (d.0 - x5 - year).abs() < 1.0)
        .unwrap()
        .1;
    assert!(
        (bottom5 - twenty - height(1.0, 20.0)).abs() < 1.0,
        "20 above 1 by {} px, expected {}",
        bottom5 - twenty,
        height(1.0, 20.0)
    );
    assert_eq!(at(x5) + at(x12), 0, "masked values are not points");
}

mod common;

fn diaspora() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root()).env_remove("RUST_BACKTRACE");
    c
}

/// The one line of a refusal (exit 2).
fn refusal(cmd: &mut assert_cmd::Command) -> String {
    let a = cmd.assert().code(2);
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// The outlined circles of `colour` (`#RRGGBB`) in an SVG.
fn rings(svg: &str, colour: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| {
            n.tag_name().name() == "circle"
                && n.attribute("fill") == Some("none")
                && n.attribute("stroke") == Some(colour)
        })
        .count()
}

#[test]
fn a_sweep_folder_plots_an_output_against_each_parameter_with_the_best_points_ringed() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    for args in [
        vec!["sweep", "plan", "tests/fixtures/sweeps/small.toml", "--out"],
        vec!["sweep", "run", "--all"],
        vec!["sweep", "merge"],
    ] {
        diaspora().args(args).arg(&sweep).assert().success();
    }
    diaspora()
        .arg("plot")
        .arg(&sweep)
        .args(["--format", "svg"])
        .assert()
        .success();
    let figures = sweep.join("figures");
    let names: Vec<String> = std::fs::read_dir(&figures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sweep.svg"], "not analysed: no sensitivity figure");
    let text = std::fs::read_to_string(figures.join("sweep.svg")).unwrap();
    for path in [
        "exit.base_rate.value",
        "hosts.GBR.recognition",
        "events.covid_border_closure.enabled",
    ] {
        assert_eq!(label_centres(&text, path).len(), 1, "panel {path}");
    }
    assert_eq!(
        label_centres(&text, "distance against each swept parameter").len(),
        1
    );
    // The five best of six points × 2 replicates, ringed in each of the 3 panels, and the
    // legend's ring; their ranks beside them.
    assert_eq!(rings(&text, "#C81E28"), 5 * 2 * 3 + 1);
    for rank in ["#1", "#5"] {
        assert_eq!(label_centres(&text, rank).len(), 2 * 3, "rank {rank}");
    }
    assert!(label_centres(&text, "#6").is_empty());
    let e = refusal(
        diaspora()
            .arg("plot")
            .arg(&sweep)
            .args(["--output", "nonsense"]),
    );
    assert!(
        e.contains("--output: expected one of distance, found `nonsense`"),
        "{e}"
    );
    let e = refusal(
        diaspora()
            .arg("plot")
            .arg(&sweep)
            .args(["--log", "--linear"]),
    );
    assert!(e.contains("cannot be used with"), "{e}");
}
