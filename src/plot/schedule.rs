//! The free schedules of a calibration over time, from its `posterior_summary.csv`: one panel
//! per schedule, the posterior median at each knot (a line with a dot at each knot), the
//! posterior's 90% band, and the prior's 90% band behind them. Each knot is summarised on its
//! own, so the bands are pointwise: a posterior path need not stay inside them. The value axis
//! is logarithmic (log10) where a panel's values are all positive and span more than two orders
//! of magnitude ([`SPAN`]); a schedule's step standard deviation, when estimated (`PATH@step_sd`),
//! is not a knot: its posterior is quoted above the panel.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{Swatch, ValueRange, footer, header_height, thousands};
use super::font::font;
use super::posterior::{POSTERIOR, PRIOR, number, read_csv};
use super::scale::{Choice, SPAN, Scale};
use super::sensitivity::short;

/// File name of the figure, without extension.
pub const STEM: &str = "calibration-schedules";

const COLUMNS: usize = 2;
const PANEL: (u32, u32) = (1200, 760);
const FOOT: u32 = 130;
/// The prior's band edges.
const PRIOR_EDGE: RGBColor = RGBColor(140, 140, 140);
const GRID: RGBColor = RGBColor(225, 225, 225);
/// The prior's band as it looks on white (its fill is [`PRIOR`] at 40%), for the legend.
const PRIOR_CELL: RGBColor = RGBColor(229, 229, 229);

/// One knot's posterior and prior quantiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knot {
    /// Calendar year.
    pub year: i32,
    /// Posterior 5th percentile.
    pub p05: f64,
    /// Posterior median.
    pub p50: f64,
    /// Posterior 95th percentile.
    pub p95: f64,
    /// Prior 5th percentile.
    pub prior_p05: f64,
    /// Prior 95th percentile.
    pub prior_p95: f64,
}

/// One free schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Key path of the scheduled parameter.
    pub path: String,
    /// Its prior, as `posterior_summary.csv` describes the knots'.
    pub prior: String,
    /// Knots in year order.
    pub knots: Vec<Knot>,
    /// The estimated step standard deviation's posterior `(p05, p50, p95)`, if it is free.
    pub step_sd: Option<(f64, f64, f64)>,
}

/// What the figure shows.
#[derive(Clone, Debug)]
pub struct Schedules {
    /// Second title line.
    pub label: String,
    /// One per schedule, in the file's order.
    pub schedules: Vec<Schedule>,
    /// Linear or logarithmic value axes.
    pub y_scale: Choice,
}

/// A row name of `posterior_summary.csv`: a constant, a knot or a step standard deviation.
enum Row<'a> {
    Constant,
    Knot(&'a str, i32),
    StepSd(&'a str),
}

fn row_kind(name: &str) -> Option<Row<'_>> {
    let Some((path, at)) = name.rsplit_once('@') else {
        return Some(Row::Constant);
    };
    if at == "step_sd" {
        return Some(Row::StepSd(path));
    }
    at.parse().ok().map(|year| Row::Knot(path, year))
}

impl Schedules {
    /// Reads `dir/posterior_summary.csv`; `label` is the second title line.
    pub fn read(dir: &Path, label: String) -> Result<Schedules, String> {
        let path = dir.join("posterior_summary.csv");
        let (header, rows) = read_csv(&path)?;
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| format!("{}:1: expected a column `{name}`", path.display()))
        };
        let names = [
            "parameter",
            "prior",
            "p05",
            "p50",
            "p95",
            "prior_p05",
            "prior_p95",
        ];
        let at = names.map(column);
        let [parameter, prior, p05, p50, p95, prior_p05, prior_p95] = {
            let mut found = [0; 7];
            for (slot, c) in found.iter_mut().zip(at) {
                *slot = c?;
            }
            found
        };
        let mut schedules: Vec<Schedule> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let cell = |j: usize| row.get(j).unwrap_or("");
            let value = |j: usize| -> Result<f64, String> {
                let v = number(&path, i, cell(j))?;
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(format!(
                        "{}:{}: {}: expected a finite number, found \"{}\"",
                        path.display(),
                        i + 2,
                        &header[j],
                        cell(j)
                    ))
                }
            };
            let name = cell(parameter);
            let kind = row_kind(name).ok_or_else(|| {
                format!(
                    "{}:{}: expected a parameter, PATH@YEAR (a whole year) or PATH@step_sd, \
                     found \"{name}\"",
                    path.display(),
                    i + 2
                )
            })?;
            let (owner, knot) = match kind {
                Row::Constant => continue,
                Row::StepSd(owner) => (owner, None),
                Row::Knot(owner, year) => (owner, Some(year)),
            };
            let index = match schedules.iter().position(|s| s.path == owner) {
                Some(k) => k,
                None => {
                    schedules.push(Schedule {
                        path: owner.to_string(),
                        prior: String::new(),
                        knots: Vec::new(),
                        step_sd: None,
                    });
                    schedules.len() - 1
                }
            };
            let s = &mut schedules[index];
            let Some(year) = knot else {
                s.step_sd = Some((value(p05)?, value(p50)?, value(p95)?));
                continue;
            };
            if s.knots.iter().any(|k| k.year == year) {
                return Err(format!(
                    "{}:{}: {name}: expected one row per knot, found a second",
                    path.display(),
                    i + 2
                ));
            }
            s.prior = cell(prior).to_string();
            let k = Knot {
                year,
                p05: value(p05)?,
                p50: value(p50)?,
                p95: value(p95)?,
                prior_p05: value(prior_p05)?,
                prior_p95: value(prior_p95)?,
            };
            if !(k.p05 <= k.p50 && k.p50 <= k.p95 && k.prior_p05 <= k.prior_p95) {
                return Err(format!(
                    "{}:{}: {name}: expected p05 ≤ p50 ≤ p95 and prior_p05 ≤ prior_p95, found \
                     {}, {}, {} and {}, {}",
                    path.display(),
                    i + 2,
                    k.p05,
                    k.p50,
                    k.p95,
                    k.prior_p05,
                    k.prior_p95
                ));
            }
            s.knots.push(k);
        }
        // A step sd without knots belongs to no schedule drawn.
        schedules.retain(|s| !s.knots.is_empty());
        for s in &mut schedules {
            s.knots.sort_by_key(|k| k.year);
        }
        Ok(Schedules {
            label,
            schedules,
            y_scale: Choice::Auto,
        })
    }

    /// Whether the calibration has no free schedule (and so no figure).
    pub fn is_empty(&self) -> bool {
        self.schedules.is_empty()
    }

    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        let columns = self.schedules.len().clamp(1, COLUMNS) as u32;
        let rows = super::draw::grid_rows(self.schedules.len(), COLUMNS) as u32;
        let width = (PANEL.0 * columns).max(1800);
        (
            width,
            header_height(width, &self.label) + PANEL.1 * rows + FOOT,
        )
    }
}

/// A panel's value axis, in axis coordinates (the value, or its log10).
#[derive(Clone, Debug, PartialEq)]
struct ValueAxis {
    log: bool,
    range: (f64, f64),
    ticks: Vec<f64>,
    minor: Vec<f64>,
    /// Decimals of the linear axis's tick labels.
    decimals: usize,
}

impl ValueAxis {
    /// The axis of a panel showing `values`: log10 where they are all positive and `choice`
    /// wants it (automatically: beyond two orders of magnitude, as [`Scale::choose`] decides
    /// for counts, without its floor of one person: parameter values may all be far below one).
    fn new(choice: Choice, values: &[f64]) -> ValueAxis {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log = lo > 0.0
            && match choice {
                Choice::Log => true,
                Choice::Linear => false,
                Choice::Auto => hi / lo > SPAN,
            };
        if log {
            ValueAxis::log10(lo, hi)
        } else {
            ValueAxis::linear(lo.min(0.0), hi.max(0.0))
        }
    }

    /// From 0 (or below the lowest value, if negative) to above the highest: the linear axis of
    /// [`Scale`], mirrored below zero.
    fn linear(lo: f64, hi: f64) -> ValueAxis {
        let up = Scale::Linear.axis(hi.max(-lo));
        let step = up.ticks.get(1).copied().unwrap_or(1.0);
        let bottom = if lo < 0.0 { lo * 1.08 } else { 0.0 };
        let top = if hi > 0.0 {
            up.top.min(hi * 1.08)
        } else {
            step
        };
        let ticks = (-(up.ticks.len() as i32)..=up.ticks.len() as i32)
            .map(|k| f64::from(k) * step)
            .filter(|t| (bottom - step * 1e-9..=top + step * 1e-9).contains(t))
            .collect();
        ValueAxis {
            log: false,
            range: (bottom, top),
            ticks,
            minor: Vec::new(),
            decimals: (-step.log10().floor()).max(0.0) as usize,
        }
    }

    /// log10 from a little below `lo` to a little above `hi`: labelled ticks at the powers of
    /// ten (and at 2 and 5 × them when fewer than three powers fall inside), light lines at
    /// 2–9 × each power.
    fn log10(lo: f64, hi: f64) -> ValueAxis {
        let (a, b) = (lo.log10(), hi.log10());
        let pad = ((b - a) * 0.06).max(0.05);
        let range = (a - pad, b + pad);
        let inside = |v: f64| (range.0..=range.1).contains(&v.log10());
        let powers = (range.0.floor() as i32..=range.1.ceil() as i32).map(|k| 10f64.powi(k));
        let multiples = |ms: &'static [f64]| {
            powers
                .clone()
                .flat_map(move |p| ms.iter().map(move |m| m * p))
                .filter(|&v| inside(v))
                .map(f64::log10)
                .collect::<Vec<_>>()
        };
        let mut ticks = multiples(&[1.0]);
        if ticks.len() < 3 {
            ticks = multiples(&[1.0, 2.0, 5.0]);
        }
        if ticks.len() < 2 {
            ticks = multiples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        }
        ValueAxis {
            log: true,
            range,
            ticks,
            minor: multiples(&[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]),
            decimals: 0,
        }
    }

    /// The axis coordinate of value `v`.
    fn to_axis(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// The label of the tick at axis coordinate `a`.
    fn label(&self, a: f64) -> String {
        if !self.log {
            return if a == 0.0 {
                "0".into()
            } else if a.abs() >= 1000.0 {
                thousands(a)
            } else {
                format!("{a:.*}", self.decimals)
            };
        }
        let v = 10f64.powf(a);
        let exponent = (a + 1e-9).floor() as i32;
        let mantissa = (v / 10f64.powi(exponent)).round();
        if (-3..5).contains(&exponent) {
            let decimals = (-exponent).max(0) as usize;
            let shown = format!("{:.*}", decimals, mantissa * 10f64.powi(exponent));
            if exponent >= 3 { thousands(v) } else { shown }
        } else {
            format!("{mantissa}e{exponent}")
        }
    }
}

/// Every value a schedule's panel shows (what decides its axis).
fn values(s: &Schedule) -> Vec<f64> {
    s.knots
        .iter()
        .flat_map(|k| [k.p05, k.p50, k.p95, k.prior_p05, k.prior_p95])
        .collect()
}

/// The lines above a panel: the path, the prior, and the step sd's posterior when it is free.
fn captions(s: &Schedule) -> Vec<String> {
    let mut lines = vec![s.path.clone(), format!("prior: {}", s.prior)];
    if let Some((lo, mid, hi)) = s.step_sd {
        lines.push(format!(
            "step sd: posterior median {} (90%: {} to {})",
            short(mid),
            short(lo),
            short(hi)
        ));
    }
    lines
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &Schedules,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let area = super::draw::header(
        root,
        "Free schedules: posterior median and 90% band (prior 90% band behind)",
        &data.label,
    )?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - FOOT);
    let n = data.schedules.len();
    let panels = super::draw::panel_grid(&body, n, n.clamp(1, COLUMNS));
    // Every chart starts below the most caption lines of any panel, so panels side by side
    // share their axes' height.
    let lines = data.schedules.iter().map(|s| captions(s).len()).max();
    let chart_top = CAPTION_TOP + caption_height(lines.unwrap_or(1)) + 12;
    for (s, panel) in data.schedules.iter().zip(&panels) {
        schedule_panel(s, data.y_scale, chart_top, panel)
            .map_err(|m| format!("{}: {m}", s.path))?;
    }
    if data.schedules.is_empty() {
        return footer(&foot, &[(Swatch::Text, "no free schedule".into())]);
    }
    let lines = foot.split_evenly((2, 1));
    footer(
        &lines[0],
        &[
            (
                Swatch::Band(POSTERIOR),
                "posterior: median (dots at the knots) and 90% band".into(),
            ),
            (
                Swatch::Cell(PRIOR_CELL),
                "prior: 90% band (dashed edges)".into(),
            ),
        ],
    )?;
    footer(
        &lines[1],
        &[(
            Swatch::Text,
            "each knot's quantiles on their own, joined by straight lines".into(),
        )],
    )
}

/// Where a panel's first caption line starts.
const CAPTION_TOP: u32 = 16;

/// Font size of caption line `i` (the path larger than the rest).
fn caption_size(i: usize) -> u32 {
    if i == 0 { 34 } else { 24 }
}

/// The height of `lines` caption lines.
fn caption_height(lines: usize) -> u32 {
    (0..lines).map(|i| caption_size(i) + 10).sum()
}

/// One schedule's panel, its chart from `chart_top` pixels down.
fn schedule_panel<DB: DrawingBackend>(
    s: &Schedule,
    choice: Choice,
    chart_top: u32,
    panel: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let axis = ValueAxis::new(choice, &values(s));
    let top = Pos::new(HPos::Center, VPos::Top);
    let w = panel.dim_in_pixel().0 as i32;
    for (i, line) in captions(s).iter().enumerate() {
        let y = CAPTION_TOP + caption_height(i);
        panel
            .draw_text(line, &font(caption_size(i)).pos(top), (w / 2, y as i32))
            .map_err(e)?;
    }
    let (first, last) = (
        f64::from(s.knots.first().map_or(0, |k| k.year)),
        f64::from(s.knots.last().map_or(0, |k| k.year)),
    );
    let pad = ((last - first) * 0.04).max(0.5);
    let y = ValueRange::new(axis.range.0..axis.range.1, &axis.ticks, &axis.minor);
    let mut chart = ChartBuilder::on(&panel.margin(chart_top, 16, 16, 24))
        .x_label_area_size(80)
        .y_label_area_size(140)
        .build_cartesian_2d(first - pad..last + pad, y)
        .map_err(e)?;
    let year_label = |x: &f64| {
        if (x - x.round()).abs() < 1e-6 {
            format!("{x:.0}")
        } else {
            String::new()
        }
    };
    let y_label = |a: &f64| axis.label(*a);
    let note = if axis.log { " (log)" } else { "" };
    chart
        .configure_mesh()
        .x_desc("year")
        .y_desc(format!("value{note}"))
        .label_style(font(26))
        .axis_desc_style(font(28))
        .x_labels(((last - first) as usize + 1).clamp(2, 10))
        .x_label_formatter(&year_label)
        .y_label_formatter(&y_label)
        .x_max_light_lines(0)
        .light_line_style(GRID.mix(0.45).stroke_width(1))
        .bold_line_style(GRID.stroke_width(1))
        .draw()
        .map_err(e)?;
    let at = |k: &Knot, v: f64| (f64::from(k.year), axis.to_axis(v));
    let band = |lower: fn(&Knot) -> f64, upper: fn(&Knot) -> f64| -> Vec<(f64, f64)> {
        let up = s.knots.iter().map(|k| at(k, upper(k)));
        let down = s.knots.iter().rev().map(|k| at(k, lower(k)));
        up.chain(down).collect()
    };
    chart
        .draw_series(std::iter::once(Polygon::new(
            band(|k| k.prior_p05, |k| k.prior_p95),
            PRIOR.mix(0.4).filled(),
        )))
        .map_err(e)?;
    for edge in [|k: &Knot| k.prior_p05, |k: &Knot| k.prior_p95] {
        chart
            .draw_series(DashedLineSeries::new(
                s.knots.iter().map(|k| at(k, edge(k))).collect::<Vec<_>>(),
                14,
                8,
                PRIOR_EDGE.stroke_width(2),
            ))
            .map_err(e)?;
    }
    chart
        .draw_series(std::iter::once(Polygon::new(
            band(|k| k.p05, |k| k.p95),
            POSTERIOR.mix(0.3).filled(),
        )))
        .map_err(e)?;
    chart
        .draw_series(LineSeries::new(
            s.knots.iter().map(|k| at(k, k.p50)),
            POSTERIOR.stroke_width(4),
        ))
        .map_err(e)?;
    chart
        .draw_series(
            s.knots
                .iter()
                .map(|k| Circle::new(at(k, k.p50), 9, POSTERIOR.filled())),
        )
        .map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) {
        std::fs::write(dir.join("posterior_summary.csv"), text).unwrap();
    }

    const HEADER: &str =
        "parameter,prior,mean,sd,p05,p50,p95,prior_p05,prior_p50,prior_p95,prior_sd\n";

    #[test]
    fn knots_are_grouped_by_schedule_and_step_sds_and_constants_are_not_knots() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &format!(
                "{HEADER}exit.base_rate,\"log-uniform on [1e-6, 1e-4]\",1,1,1,1,1,1,1,1,1\n\
                 exit.push@step_sd,\"uniform on [0.1, 1]\",0.4,0.1,0.2,0.4,0.6,0.1,0.5,0.9,0.3\n\
                 exit.push@2006,\"walk\",1,0.1,0.9,1.0,1.1,0.3,1,3,1\n\
                 exit.push@2000,\"walk\",1,0.1,0.8,1.0,1.2,0.2,1,4,1\n\
                 hosts.GBR.quota@2001,\"walk\",5,1,4,5,6,1,5,9,2\n"
            ),
        );
        let s = Schedules::read(dir.path(), "label".into()).unwrap();
        let paths: Vec<&str> = s.schedules.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["exit.push", "hosts.GBR.quota"]);
        let push = &s.schedules[0];
        let years: Vec<i32> = push.knots.iter().map(|k| k.year).collect();
        assert_eq!(years, [2000, 2006], "in year order");
        assert_eq!(push.step_sd, Some((0.2, 0.4, 0.6)));
        assert_eq!(
            push.knots[0],
            Knot {
                year: 2000,
                p05: 0.8,
                p50: 1.0,
                p95: 1.2,
                prior_p05: 0.2,
                prior_p95: 4.0
            }
        );
        assert_eq!(push.prior, "walk");
        write(
            dir.path(),
            &format!("{HEADER}exit.base_rate,\"u\",1,1,1,1,1,1,1,1,1\n"),
        );
        assert!(
            Schedules::read(dir.path(), String::new())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_bad_row_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let refused = |text: String| {
            write(dir.path(), &text);
            let e = Schedules::read(dir.path(), String::new()).unwrap_err();
            e.split_once("posterior_summary.csv:")
                .unwrap()
                .1
                .to_string()
        };
        let knot = "exit.push@2000,\"w\",1,0.1,0.8,1.0,1.2,0.2,1,4,1\n";
        assert_eq!(
            refused(format!(
                "{HEADER}{knot}exit.push@2003,\"w\",1,0.1,0.8,x,1.2,0.2,1,4,1\n"
            )),
            "3: expected a number, found \"x\""
        );
        assert_eq!(
            refused(format!(
                "{HEADER}exit.push@20x0,\"w\",1,0.1,0.8,1,1.2,0.2,1,4,1\n"
            )),
            "2: expected a parameter, PATH@YEAR (a whole year) or PATH@step_sd, found \
             \"exit.push@20x0\""
        );
        assert_eq!(
            refused(format!("{HEADER}{knot}{knot}")),
            "3: exit.push@2000: expected one row per knot, found a second"
        );
        assert_eq!(
            refused(format!(
                "{HEADER}exit.push@2000,\"w\",1,0.1,0.8,NaN,1.2,0.2,1,4,1\n"
            )),
            "2: p50: expected a finite number, found \"NaN\""
        );
        assert_eq!(
            refused(format!(
                "{HEADER}exit.push@2000,\"w\",1,0.1,1.2,1.0,0.8,0.2,1,4,1\n"
            )),
            "2: exit.push@2000: expected p05 ≤ p50 ≤ p95 and prior_p05 ≤ prior_p95, found 1.2, \
             1, 0.8 and 0.2, 4"
        );
        assert_eq!(
            refused("parameter,prior,mean,sd,p05,p50,p95\n".into()),
            "1: expected a column `prior_p05`"
        );
    }

    #[test]
    fn the_axis_is_log10_beyond_two_orders_of_magnitude_of_positive_values() {
        let axis = |v: &[f64]| ValueAxis::new(Choice::Auto, v);
        assert!(axis(&[1e-5, 2e-3]).log);
        assert!(!axis(&[1e-5, 9e-4]).log, "90 times: linear");
        assert!(!axis(&[0.0, 1e-5, 1.0]).log, "zero has no logarithm");
        assert!(ValueAxis::new(Choice::Log, &[0.5, 2.0]).log, "--log");
        assert!(!ValueAxis::new(Choice::Log, &[0.0, 2.0]).log);
        assert!(!ValueAxis::new(Choice::Linear, &[1e-5, 1.0]).log);
        let log = axis(&[1e-5, 2e-2]);
        let labels: Vec<String> = log.ticks.iter().map(|&a| log.label(a)).collect();
        assert_eq!(labels, ["1e-5", "1e-4", "0.001", "0.01"]);
        let narrow = axis(&[0.02, 3.0]);
        let labels: Vec<String> = narrow.ticks.iter().map(|&a| narrow.label(a)).collect();
        assert_eq!(labels, ["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"]);
    }

    #[test]
    fn the_linear_axis_starts_at_zero_with_round_ticks() {
        let a = ValueAxis::new(Choice::Auto, &[0.2, 5.0]);
        assert_eq!(a.range, (0.0, 5.4));
        let labels: Vec<String> = a.ticks.iter().map(|&t| a.label(t)).collect();
        assert_eq!(labels, ["0", "1", "2", "3", "4", "5"]);
        let small = ValueAxis::new(Choice::Auto, &[0.1, 0.35]);
        let labels: Vec<String> = small.ticks.iter().map(|&t| small.label(t)).collect();
        assert_eq!(labels, ["0", "0.1", "0.2", "0.3"]);
        let signed = ValueAxis::new(Choice::Auto, &[-2.0, 3.0]);
        assert!(signed.range.0 < -2.0 && signed.ticks.first() == Some(&-2.0));
    }
}
