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

/// Each text labelled `label`: the centre `(x, y)` of its outline.
fn text_centres(svg: &str, label: &str) -> Vec<(f64, f64)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.attribute("aria-label") == Some(label))
        .map(|n| {
            let p = pairs(n.attribute("d").unwrap());
            let span = |f: fn(&(f64, f64)) -> f64| {
                let lo = p.iter().map(f).fold(f64::MAX, f64::min);
                let hi = p.iter().map(f).fold(f64::MIN, f64::max);
                (lo + hi) / 2.0
            };
            (span(|q| q.0), span(|q| q.1))
        })
        .collect()
}

/// The vertical centre of the one text `label` whose centre lies between `x.0` and `x.1`.
fn centre_within(svg: &str, label: &str, x: (f64, f64)) -> f64 {
    let found: Vec<f64> = text_centres(svg, label)
        .into_iter()
        .filter(|c| (x.0..x.1).contains(&c.0))
        .map(|c| c.1)
        .collect();
    assert_eq!(found.len(), 1, "one `{label}` in {x:?}: {found:?}");
    found[0]
}

/// The points of each element `tag` (`polygon`, `polyline`) with the attributes `with`.
fn shapes(svg: &str, tag: &str, with: &[(&str, &str)]) -> Vec<Vec<(f64, f64)>> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| {
            n.tag_name().name() == tag && with.iter().all(|&(a, v)| n.attribute(a) == Some(v))
        })
        .map(|n| pairs(n.attribute("points").unwrap()))
        .collect()
}

/// `(x, y, width, height)` of the rectangles filled with `fill` at `opacity`.
fn rects(svg: &str, fill: &str, opacity: &str) -> Vec<(f64, f64, f64, f64)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| {
            n.tag_name().name() == "rect"
                && n.attribute("fill") == Some(fill)
                && n.attribute("opacity") == Some(opacity)
        })
        .map(|n| {
            let at = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            (at("x"), at("y"), at("width"), at("height"))
        })
        .collect()
}

/// Centres of the circles filled with `fill`.
fn dots_of(svg: &str, fill: &str) -> Vec<(f64, f64)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "circle" && n.attribute("fill") == Some(fill))
        .map(|n| {
            let at = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            (at("cx"), at("cy"))
        })
        .collect()
}

/// Lowest and highest `y` of a shape's points within a pixel of `x`.
fn y_span_at(points: &[(f64, f64)], x: f64) -> (f64, f64) {
    let ys: Vec<f64> = points
        .iter()
        .filter(|p| (p.0 - x).abs() <= 1.0)
        .map(|p| p.1)
        .collect();
    assert!(!ys.is_empty(), "no point at x = {x}: {points:?}");
    (
        ys.iter().copied().fold(f64::MAX, f64::min),
        ys.iter().copied().fold(f64::MIN, f64::max),
    )
}

const POSTERIOR_FILL: &str = "#1F66AA";
const PRIOR_FILL: &str = "#BEBEBE";
const SUMMARY_HEADER: &str =
    "parameter,prior,mean,sd,p05,p50,p95,prior_p05,prior_p50,prior_p95,prior_sd\n";

/// `posterior_summary.csv` rows of knots `(year, p05, p50, p95, prior_p05, prior_p95)` of `path`.
fn knot_rows(path: &str, knots: &[(i32, f64, f64, f64, f64, f64)]) -> String {
    knots
        .iter()
        .map(|&(year, p05, p50, p95, q05, q95)| {
            format!(
                "{path}@{year},\"random walk on the log scale (step sd 0.5) on [1e-6, 5]\",\
                 {p50},0.1,{p05},{p50},{p95},{q05},{p50},{q95},1\n"
            )
        })
        .collect()
}

#[test]
fn free_schedules_are_drawn_knot_by_knot_with_posterior_and_prior_bands() {
    use diaspora::plot::schedule::Schedules;
    // The push spans 0.25 to 4.5: a linear axis with ticks 0 to 4. The move-on probability
    // spans 1e-5 to 5e-3, more than two orders of magnitude: a log10 axis. Knots out of year
    // order in the file; a constant and an estimated step sd that are not knots.
    let push = [
        (2000, 0.8, 1.0, 1.3, 0.3, 3.5),
        (2007, 0.5, 0.7, 1.1, 0.25, 4.5),
        (2002, 1.2, 1.6, 2.0, 0.3, 4.0),
    ];
    let move_on = [
        (1995, 2e-5, 1e-4, 4e-4, 1e-5, 5e-3),
        (2005, 1e-4, 5e-4, 2e-3, 1e-5, 5e-3),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("posterior_summary.csv"),
        format!(
            "{SUMMARY_HEADER}exit.base_rate,\"log-uniform on [1e-6, 1e-4]\",1e-5,1e-6,8e-6,1e-5,\
             1.2e-5,2e-6,1e-5,8e-5,2e-5\n\
             exit.push@step_sd,\"uniform on [0.1, 1]\",0.4,0.1,0.2,0.4,0.7,0.15,0.55,0.95,0.25\n\
             {}{}",
            knot_rows("exit.push", &push),
            knot_rows("transit.TRN.move_on", &move_on)
        ),
    )
    .unwrap();
    let data = Schedules::read(dir.path(), "a calibration drawn for a test".into()).unwrap();
    let text =
        String::from_utf8(diaspora::plot::render_schedules(&data, Format::Svg).unwrap()).unwrap();
    for label in [
        "Free schedules: posterior median and 90% band (prior 90% band behind)",
        "a calibration drawn for a test",
        "exit.push",
        "transit.TRN.move_on",
        "step sd: posterior median 0.400 (90%: 0.200 to 0.700)",
        "posterior: median (dots at the knots) and 90% band",
        "prior: 90% band (dashed edges)",
    ] {
        assert_eq!(label_centres(&text, label).len(), 1, "`{label}`");
    }
    // A dot per knot, none for the step sd: the push's three in year order, then two.
    let dots = dots_of(&text, POSTERIOR_FILL);
    assert_eq!(dots.len(), 5, "{dots:?}");
    let (left, right) = (&dots[..3], &dots[3..]);
    let years = (left[1].0 - left[0].0) / (left[2].0 - left[0].0);
    assert!(
        (years - 2.0 / 7.0).abs() < 0.01,
        "2000, 2002, 2007: {years}"
    );
    let posterior = shapes(&text, "polygon", &[("fill", POSTERIOR_FILL)]);
    let prior = shapes(&text, "polygon", &[("fill", PRIOR_FILL)]);
    assert_eq!((posterior.len(), prior.len()), (2, 2));
    // The linear panel: value v at y("0") − v × (pixels per unit), give or take where a label
    // sits on its tick; the bands' edges exactly so from the dot at the median.
    let panel = (0.0, right[0].0 - 100.0);
    let zero = centre_within(&text, "0", panel);
    let per_unit = (zero - centre_within(&text, "4", panel)) / 4.0;
    let mut sorted = push;
    sorted.sort_by_key(|k| k.0);
    // Labels sit a few pixels off their ticks, the same few for every label.
    let offset = left[0].1 - (zero - sorted[0].2 * per_unit);
    assert!(offset.abs() < 8.0, "{offset}");
    for (&(year, p05, p50, p95, q05, q95), dot) in sorted.iter().zip(left) {
        assert!(
            (dot.1 - (zero - p50 * per_unit) - offset).abs() < 1.5,
            "{year}: median at {}, expected {}",
            dot.1,
            zero - p50 * per_unit + offset
        );
        let (top, bottom) = y_span_at(&posterior[0], dot.0);
        assert!(
            (bottom - dot.1 - (p50 - p05) * per_unit).abs() < 1.5
                && (dot.1 - top - (p95 - p50) * per_unit).abs() < 1.5,
            "{year}: posterior band {top}..{bottom} around the median at {}",
            dot.1
        );
        let (top, bottom) = y_span_at(&prior[0], dot.0);
        assert!(
            (bottom - dot.1 - (p50 - q05) * per_unit).abs() < 1.5
                && (dot.1 - top - (q95 - p50) * per_unit).abs() < 1.5,
            "{year}: prior band {top}..{bottom} around the median at {}",
            dot.1
        );
    }
    // The log panel: a decade apart at each power of ten; the knots' quantiles on it.
    let panel = (right[0].0 - 100.0, f64::MAX);
    assert!(
        text_centres(&text, "0").iter().all(|c| c.0 < panel.0)
            && text_centres(&text, "1e-5").iter().all(|c| c.0 > panel.0),
        "zero on the push's linear axis, not on the log axis"
    );
    // The prior band spans 1e-5 to 5e-3 at both knots: log10(500) decades.
    let (pt, pb) = y_span_at(&prior[1], right[0].0);
    let decade = (pb - pt) / 500f64.log10();
    assert!(decade > 50.0, "a decade is {decade} px");
    // The labels a decade apart (give or take a pixel: each string's glyphs are its own height).
    let decades: Vec<f64> = ["1e-5", "1e-4", "0.001"]
        .iter()
        .map(|l| centre_within(&text, l, panel))
        .collect();
    for pair in decades.windows(2) {
        assert!(
            (pair[0] - pair[1] - decade).abs() < 2.0,
            "labels at {decades:?}, a decade is {decade} px"
        );
    }
    let at = |v: f64| decades[1] - decade * (v / 1e-4).log10();
    for (&(year, p05, p50, p95, q05, q95), dot) in move_on.iter().zip(right) {
        assert!(
            (dot.1 - at(p50) - offset).abs() < 3.0,
            "{year}: median at {}, expected {}",
            dot.1,
            at(p50) + offset
        );
        let (top, bottom) = y_span_at(&posterior[1], dot.0);
        let (pt, pb) = y_span_at(&prior[1], dot.0);
        for (got, want) in [
            (bottom - dot.1, at(p05) - at(p50)),
            (dot.1 - top, at(p50) - at(p95)),
            (pb - dot.1, at(q05) - at(p50)),
            (dot.1 - pt, at(p50) - at(q95)),
        ] {
            assert!(
                (got - want).abs() < 1.5,
                "{year}: {got} px, expected {want}"
            );
        }
    }
}

/// An SBC folder as `diaspora sbc` leaves it, by hand: `sbc.toml` (with `draws`) and
/// `sbc_summary.csv` of `(parameter, replications, coverage50, coverage90, p, bins)`.
/// One row of `sbc_summary.csv`: parameter, replications, coverage50, coverage90, p, bins.
type SbcRow<'a> = (&'a str, u32, f64, f64, f64, &'a [u32]);

fn sbc_folder(dir: &std::path::Path, draws: u32, rows: &[SbcRow<'_>]) {
    let bins = rows[0].5.len();
    let mut csv = String::from("parameter,replications,coverage50,coverage90,chi_square,p_value");
    for b in 0..bins {
        csv.push_str(&format!(",bin{b}"));
    }
    csv.push('\n');
    for (parameter, n, c50, c90, p, counts) in rows {
        csv.push_str(&format!("{parameter},{n},{c50},{c90},9.5,{p}"));
        for c in counts.iter() {
            csv.push_str(&format!(",{c}"));
        }
        csv.push('\n');
    }
    std::fs::write(dir.join("sbc_summary.csv"), csv).unwrap();
    std::fs::write(
        dir.join("sbc.toml"),
        format!(
            "calibration_file = \"c.toml\"\nreplications = {}\ndraws = {draws}\nseed = 3\n\
             particles = 60\n",
            rows[0].1
        ),
    )
    .unwrap();
}

/// The SBC figure of `dir` as SVG text.
fn sbc_svg(dir: &std::path::Path) -> String {
    let data = diaspora::plot::sbc::SbcFigure::read(dir).unwrap();
    String::from_utf8(diaspora::plot::render_sbc(&data, Format::Svg).unwrap()).unwrap()
}

/// One panel of the SBC figure read back: the bars' `(x, height)` left to right, their common
/// foot, pixels per replication, the expected line's `y` per bin, and the band's polygon.
struct RankPanel {
    bars: Vec<(f64, f64)>,
    foot: f64,
    per_count: f64,
    expected: Vec<f64>,
    band: Vec<(f64, f64)>,
}

fn rank_panels(svg: &str, counts: &[&[u32]]) -> Vec<RankPanel> {
    let mut bars = rects(svg, POSTERIOR_FILL, "0.8");
    bars.sort_by(|a, b| a.0.total_cmp(&b.0));
    let k = counts[0].len();
    assert_eq!(bars.len(), k * counts.len(), "a bar per bin and panel");
    // The expected lines: black steps of two points per bin (the legend's line has two).
    let lines: Vec<Vec<(f64, f64)>> =
        shapes(svg, "polyline", &[("stroke", "#000000"), ("opacity", "1")])
            .into_iter()
            .filter(|p| p.len() == 2 * k)
            .collect();
    let bands = shapes(svg, "polygon", &[("fill", "#969696")]);
    assert_eq!((lines.len(), bands.len()), (counts.len(), counts.len()));
    bars.chunks(k)
        .zip(counts)
        .zip(lines.iter().zip(&bands))
        .map(|((mine, counts), (line, band))| {
            let foot = mine[0].1 + mine[0].3;
            for b in mine {
                assert!((b.1 + b.3 - foot).abs() < 0.6, "bars stand on one axis");
            }
            let total: u32 = counts.iter().sum();
            let per_count = mine.iter().map(|b| b.3).sum::<f64>() / f64::from(total);
            RankPanel {
                bars: mine.iter().map(|b| (b.0, b.3)).collect(),
                foot,
                per_count,
                expected: line.chunks(2).map(|s| s[0].1).collect(),
                band: band.clone(),
            }
        })
        .collect()
}

#[test]
fn sbc_rank_bars_stand_in_proportion_to_the_counts_against_the_uniform_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let flat: &[u32] = &[12, 18, 25, 20, 30, 15, 22, 19, 21, 18];
    let hump: &[u32] = &[35, 25, 20, 15, 10, 10, 15, 20, 25, 25];
    sbc_folder(
        dir.path(),
        99,
        &[
            ("exit.base_rate", 200, 0.48, 0.91, 0.41, flat),
            ("transit.TRN.move_on", 200, 0.62, 0.97, 0.0004, hump),
        ],
    );
    let text = sbc_svg(dir.path());
    for label in [
        "Simulation-based calibration: ranks of the truth among posterior draws",
        "exit.base_rate",
        "transit.TRN.move_on",
        "coverage 50%: 0.48, 90%: 0.91; uniformity χ² p = 0.410",
        "coverage 50%: 0.62, 90%: 0.97; uniformity χ² p < 0.001",
        "central 99% binomial interval",
    ] {
        assert_eq!(label_centres(&text, label).len(), 1, "`{label}`");
    }
    let panels = rank_panels(&text, &[flat, hump]);
    for (panel, counts) in panels.iter().zip([flat, hump]) {
        for (&(x, h), &c) in panel.bars.iter().zip(counts) {
            assert!(
                (h - f64::from(c) * panel.per_count).abs() < 1.0,
                "bar at {x}: {h} px for {c} replications ({} px each)",
                panel.per_count
            );
        }
        // 200 ranks in 10 equal bins: 20 expected in each; Bin(200, 0.1) has its central 99%
        // from 10 to 32 (P(X ≤ 9) = 0.0035, P(X ≤ 10) = 0.0081; P(X ≤ 31) = 0.9946,
        // P(X ≤ 32) = 0.9971).
        let height = |count: f64| panel.foot - count * panel.per_count;
        for &y in &panel.expected {
            assert!(
                (y - height(20.0)).abs() < 1.0,
                "expected at {y}, not {}",
                height(20.0)
            );
        }
        let (top, bottom) = y_span_at(&panel.band, panel.band[0].0);
        assert!(
            (top - height(32.0)).abs() < 1.0 && (bottom - height(10.0)).abs() < 1.0,
            "band {top}..{bottom}, expected {}..{}",
            height(32.0),
            height(10.0)
        );
        // The value axis says the same: the tick 20 at the expected line.
        let x = (panel.bars[0].0 - 150.0, panel.bars[0].0 - 5.0);
        let (ten, twenty) = (centre_within(&text, "10", x), centre_within(&text, "20", x));
        assert!((ten - twenty - 10.0 * panel.per_count).abs() < 1.0);
        assert!(
            (twenty - height(20.0)).abs() < 8.0,
            "labels sit a few pixels off"
        );
    }
}

#[test]
fn sbc_bins_of_unequal_width_expect_counts_in_proportion_to_the_ranks_they_hold() {
    // L = 14: ranks 0..=14 in ten bins hold 2, 1, 2, 1, … ranks: 40 replications expect
    // 40 × 2/15 and 40 × 1/15, with central 99% intervals 1 to 11 and 0 to 7.
    let dir = tempfile::tempdir().unwrap();
    let counts: &[u32] = &[6, 2, 5, 3, 6, 2, 5, 3, 6, 2];
    sbc_folder(
        dir.path(),
        14,
        &[("exit.base_rate", 40, 0.5, 0.9, 0.8, counts)],
    );
    let text = sbc_svg(dir.path());
    let panel = &rank_panels(&text, &[counts])[0];
    let height = |count: f64| panel.foot - count * panel.per_count;
    for (b, &y) in panel.expected.iter().enumerate() {
        let want = 40.0 * if b % 2 == 0 { 2.0 } else { 1.0 } / 15.0;
        assert!(
            (y - height(want)).abs() < 1.0,
            "bin {b}: {y}, expected {}",
            height(want)
        );
    }
    // The band's polygon: the upper edge's two points per bin left to right, then the lower
    // edge's right to left.
    let k = counts.len();
    assert_eq!(panel.band.len(), 4 * k);
    for b in 0..k {
        let (upper, lower) = (panel.band[2 * b].1, panel.band[4 * k - 1 - 2 * b].1);
        let want = if b % 2 == 0 { (11.0, 1.0) } else { (7.0, 0.0) };
        assert!(
            (upper - height(want.0)).abs() < 1.0 && (lower - height(want.1)).abs() < 1.0,
            "bin {b}: band {upper}..{lower}, expected {want:?}"
        );
    }
}

/// The file names in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn plot_draws_an_sbc_folder_and_refuses_one_edited_since_it_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sbc");
    diaspora()
        .args([
            "sbc",
            "tests/fixtures/calibration/sbc.toml",
            "--replications",
            "2",
        ])
        .args(["--draws", "9", "--threads", "1", "--out"])
        .arg(&out)
        .assert()
        .success();
    diaspora()
        .arg("plot")
        .arg(&out)
        .args(["--format", "svg"])
        .assert()
        .success();
    assert_eq!(names_in(&out.join("figures")), ["sbc-ranks.svg"]);
    let text = std::fs::read_to_string(out.join("figures/sbc-ranks.svg")).unwrap();
    for label in ["exit.base_rate", "transit.TRN.move_on"] {
        assert_eq!(label_centres(&text, label).len(), 1, "panel {label}");
    }
    // The bars are the file's counts: two replications of each coordinate in ten bins.
    let summary = out.join("sbc_summary.csv");
    let file = std::fs::read_to_string(&summary).unwrap();
    let counts: Vec<Vec<u32>> = file
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(6).map(|c| c.parse().unwrap()).collect())
        .collect();
    let counts: Vec<&[u32]> = counts.iter().map(Vec::as_slice).collect();
    for (panel, counts) in rank_panels(&text, &counts).iter().zip(&counts) {
        assert_eq!(counts.iter().sum::<u32>(), 2);
        for (&(_, h), &c) in panel.bars.iter().zip(counts.iter()) {
            assert!((h - f64::from(c) * panel.per_count).abs() < 1.0);
        }
        let expected = panel.foot - 0.2 * panel.per_count;
        assert!(panel.expected.iter().all(|y| (y - expected).abs() < 1.0));
    }
    // A count changed by hand is refused before anything is drawn.
    let edited = file.replacen(",2,", ",3,", 1);
    std::fs::write(&summary, edited).unwrap();
    std::fs::remove_dir_all(out.join("figures")).unwrap();
    let e = refusal(diaspora().arg("plot").arg(&out));
    assert!(
        e.contains("sbc_summary.csv: changed since it was written") && e.contains("in sbc.toml"),
        "{e}"
    );
    assert!(!out.join("figures").exists(), "nothing drawn");
}

/// A calibration folder as `diaspora calibrate` leaves it, by hand: three particles of
/// `columns` (`posterior.csv`), their priors (`priors.csv`, constants only), `history.csv`,
/// `posterior_summary.csv`, and `calibration.toml` listing their hashes.
fn calibration_folder(
    dir: &std::path::Path,
    columns: &[(&str, [f64; 3])],
    priors: &str,
    history: &str,
    summary: &str,
) {
    std::fs::create_dir_all(dir).unwrap();
    let mut posterior = String::from("generation,particle,weight,distance");
    for (name, _) in columns {
        posterior.push_str(&format!(",{name}"));
    }
    posterior.push('\n');
    for (i, weight) in [0.5, 0.3, 0.2].iter().enumerate() {
        posterior.push_str(&format!("2,{i},{weight},0.1"));
        for (_, values) in columns {
            posterior.push_str(&format!(",{}", values[i]));
        }
        posterior.push('\n');
    }
    let files = [
        ("posterior.csv", posterior),
        (
            "priors.csv",
            format!("parameter,dist,min,max,mean,sd,alpha,beta\n{priors}"),
        ),
        ("history.csv", history.to_string()),
        (
            "posterior_summary.csv",
            format!("{SUMMARY_HEADER}{summary}"),
        ),
    ];
    let mut manifest = String::from("calibration = \"hand\"\nparticles = 3\n\n[files]\n");
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let hash = diaspora::output::folder::file_hash(&path).unwrap();
        manifest.push_str(&format!("\"{name}\" = \"{hash}\"\n"));
    }
    std::fs::write(dir.join("calibration.toml"), manifest).unwrap();
}

#[test]
fn plot_draws_a_calibrations_schedules_only_when_it_has_some() {
    let tmp = tempfile::tempdir().unwrap();
    // Schedules alone (no free constant), and history.csv with the acceptance per simulation.
    let schedules = tmp.path().join("schedules");
    calibration_folder(
        &schedules,
        &[
            ("exit.push@2000", [1.0, 1.1, 0.9]),
            ("exit.push@2005", [1.2, 1.4, 1.1]),
        ],
        "",
        "generation,tolerance,acceptance_rate,simulated_share,simulation_acceptance,ess,\
         proposals,simulations,months_saved,wall_seconds,simulation_seconds,algorithm_seconds\n\
         0,inf,1.000000,1.000000,1.000000,3.000,3,3,0,0.1,0.1,0\n\
         1,0.5,0.300000,0.500000,0.600000,2.500,10,5,0.1,0.1,0.1,0\n\
         2,0.2,0.100000,0.400000,0.250000,2.200,30,12,0.2,0.1,0.1,0\n",
        &knot_rows(
            "exit.push",
            &[
                (2000, 0.9, 1.0, 1.1, 0.3, 3.5),
                (2005, 1.1, 1.2, 1.4, 0.3, 3.5),
            ],
        ),
    );
    diaspora()
        .arg("plot")
        .arg(&schedules)
        .args(["--format", "svg"])
        .assert()
        .success();
    assert_eq!(
        names_in(&schedules.join("figures")),
        ["calibration-history.svg", "calibration-schedules.svg"],
        "schedules alone: no marginal or corner figure (they would be empty)"
    );
    let figure =
        std::fs::read_to_string(schedules.join("figures/calibration-schedules.svg")).unwrap();
    assert_eq!(label_centres(&figure, "exit.push").len(), 1);
    assert_eq!(
        label_centres(&figure, "calibration schedules: generation 2, 3 particles").len(),
        1,
        "the calibration figures' subtitle"
    );
    assert_eq!(dots_of(&figure, POSTERIOR_FILL).len(), 2);
    // The third panel: accepted per simulation, 100%, 60%, 25% (not per proposal: 100%, 30%,
    // 10%); the effective sample size against the 3 particles of posterior.csv.
    let history =
        std::fs::read_to_string(schedules.join("figures/calibration-history.svg")).unwrap();
    assert_eq!(
        label_centres(&history, "Acceptance per simulation").len(),
        1
    );
    assert_eq!(
        label_centres(&history, "Effective sample size (dashed: particles)").len(),
        1
    );
    let dots = dots_of(&history, POSTERIOR_FILL);
    assert_eq!(
        dots.len(),
        2 + 3 + 3,
        "tolerance (not generation 0), ESS, acceptance"
    );
    let (ess, acceptance) = (&dots[2..5], &dots[5..]);
    let drop = (acceptance[0].1 - acceptance[1].1) / (acceptance[0].1 - acceptance[2].1);
    assert!((drop - 40.0 / 75.0).abs() < 0.01, "{drop}");
    let particles: Vec<f64> = shapes(
        &history,
        "polyline",
        &[("stroke", "#000000"), ("opacity", "0.5")],
    )
    .into_iter()
    .filter(|p| p.len() == 2 && p[0].1 == p[1].1 && p[0].0 > ess[0].0 - 300.0)
    .filter(|p| p[0].0 < acceptance[0].0 - 100.0)
    .map(|p| p[0].1)
    .collect();
    assert!(!particles.is_empty(), "the dashed line of the particles");
    assert!(
        particles.iter().all(|y| (y - ess[0].1).abs() < 1.0),
        "ESS 3 of generation 0 on the dashed line of 3 particles: {particles:?} against {}",
        ess[0].1
    );
    // A free constant and no schedule; a history.csv of before the acceptance per simulation.
    let constants = tmp.path().join("constants");
    calibration_folder(
        &constants,
        &[("exit.base_rate", [1e-5, 2e-5, 3e-5])],
        "exit.base_rate,loguniform,1e-6,1e-4,,,,\n",
        "generation,tolerance,acceptance_rate,ess,proposals,simulations,wall_seconds,\
         simulation_seconds,algorithm_seconds\n\
         0,inf,1.000000,3.000,3,3,0.1,0.1,0\n\
         1,0.5,0.300000,2.500,10,10,0.1,0.1,0\n",
        "exit.base_rate,\"log-uniform on [1e-6, 1e-4]\",2e-5,1e-5,1e-5,2e-5,3e-5,2e-6,1e-5,8e-5,2e-5\n",
    );
    diaspora()
        .arg("plot")
        .arg(&constants)
        .args(["--format", "svg"])
        .assert()
        .success();
    assert_eq!(
        names_in(&constants.join("figures")),
        [
            "calibration-history.svg",
            "posterior-corner.svg",
            "posterior-marginals.svg"
        ],
        "no schedule, no schedule figure"
    );
    let history =
        std::fs::read_to_string(constants.join("figures/calibration-history.svg")).unwrap();
    assert_eq!(
        label_centres(&history, "Acceptance rate per proposal").len(),
        1
    );
}
