//! The figure of a merged sweep: an output of every run (the fit `distance` by default, or a
//! `keep` entry) against each swept parameter, one panel per parameter, with the points of
//! lowest mean distance ringed and numbered by rank in every panel, so where the best fits lie
//! along each parameter can be read across panels.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{PANEL, Swatch, XAxis, footer, header_height, value_axes};
use super::font::font;
use super::scale::{Choice, SPAN, Scale};
use super::sensitivity::short;

/// File stem of the figure.
pub const STEM: &str = "sweep";

/// Points ringed as the best.
pub const BEST: usize = 5;

const COLUMNS: usize = 3;
const PANEL_SIZE: (u32, u32) = (900, 700);
const RUN: RGBColor = RGBColor(31, 102, 170);
const RING: RGBColor = RGBColor(200, 30, 40);

/// One run of the sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Its design point.
    pub point: usize,
    /// Its parameter values, in the plan's column order.
    pub x: Vec<f64>,
    /// The output shown (`None`: undefined for this run).
    pub y: Option<f64>,
    /// Its fit distance (what "best" means).
    pub distance: Option<f64>,
}

/// What the figure shows.
#[derive(Clone, Debug)]
pub struct SweepFigure {
    /// Second title line.
    pub label: String,
    /// The output on the y axes.
    pub output: String,
    /// Swept parameter paths.
    pub parameters: Vec<String>,
    /// Every run.
    pub runs: Vec<Run>,
    /// The [`BEST`] points of lowest mean distance over their replicates, best first.
    pub best: Vec<usize>,
    /// Linear or logarithmic y axes.
    pub y_scale: Choice,
}

/// The points of lowest mean distance (runs without a distance left out), best first; ties
/// by point index.
pub fn best_points(runs: &[Run], n: usize) -> Vec<usize> {
    let mut sums: std::collections::BTreeMap<usize, (f64, u32)> = Default::default();
    for r in runs {
        if let Some(d) = r.distance.filter(|d| d.is_finite()) {
            let e = sums.entry(r.point).or_default();
            e.0 += d;
            e.1 += 1;
        }
    }
    let mut means: Vec<(usize, f64)> = sums
        .into_iter()
        .map(|(p, (s, k))| (p, s / f64::from(k)))
        .collect();
    means.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    means.into_iter().take(n).map(|(p, _)| p).collect()
}

impl SweepFigure {
    /// The figure of `runs`, `output` naming their `y`.
    pub fn new(label: String, output: String, parameters: Vec<String>, runs: Vec<Run>) -> Self {
        let best = best_points(&runs, BEST);
        SweepFigure {
            label,
            output,
            parameters,
            runs,
            best,
            y_scale: Choice::Auto,
        }
    }

    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        let rows = super::draw::grid_rows(self.parameters.len(), COLUMNS) as u32;
        let width = PANEL_SIZE.0 * COLUMNS as u32;
        (
            width,
            header_height(width, &self.label) + PANEL_SIZE.1 * rows + 80,
        )
    }
}

/// Whether parameter values are drawn on a log10 axis: all positive and spanning more than two
/// orders of magnitude (a rate swept over a log-uniform range).
fn log_x(values: &[f64]) -> bool {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    lo > 0.0 && hi / lo > SPAN
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &SweepFigure,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let title = format!("{} against each swept parameter", data.output);
    let area = super::draw::header(root, &title, &data.label)?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 80);
    let panels = super::draw::panel_grid(&body, data.parameters.len(), COLUMNS);
    let ys: Vec<f64> = data.runs.iter().filter_map(|r| r.y).collect();
    let scale = Scale::choose(data.y_scale, ys.iter().copied());
    let axis = scale.axis(ys.iter().copied().fold(0.0, f64::max));
    let rank = |point: usize| data.best.iter().position(|&b| b == point);
    for (k, (path, panel)) in data.parameters.iter().zip(&panels).enumerate() {
        let xs: Vec<f64> = data.runs.iter().map(|r| r.x[k]).collect();
        let log = log_x(&xs);
        let to_x = |v: f64| if log { v.log10() } else { v };
        let lo = xs.iter().copied().map(to_x).fold(f64::INFINITY, f64::min);
        let hi = xs
            .iter()
            .copied()
            .map(to_x)
            .fold(f64::NEG_INFINITY, f64::max);
        let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
        let format = |v: &f64| short(if log { 10f64.powf(*v) } else { *v });
        let desc = if log { "value (log10 axis)" } else { "value" };
        let x = XAxis {
            range: lo - pad..hi + pad,
            desc,
            format: &format,
        };
        let mut chart = value_axes(panel, path, &x, &axis, &data.output, PANEL)?;
        let at = |r: &Run| r.y.map(|y| (to_x(r.x[k]), scale.to_axis(y)));
        chart
            .draw_series(
                data.runs
                    .iter()
                    .filter_map(at)
                    .map(|p| Circle::new(p, 5, RUN.mix(0.45).filled())),
            )
            .map_err(|x| x.to_string())?;
        let ringed: Vec<(usize, (f64, f64))> = data
            .runs
            .iter()
            .filter_map(|r| Some((rank(r.point)?, at(r)?)))
            .collect();
        chart
            .draw_series(
                ringed
                    .iter()
                    .map(|&(_, p)| Circle::new(p, 12, RING.stroke_width(3))),
            )
            .map_err(|x| x.to_string())?;
        let label = Pos::new(HPos::Left, VPos::Bottom);
        chart
            .draw_series(ringed.iter().map(|&(r, p)| {
                Text::new(format!("#{}", r + 1), p, font(24).color(&RING).pos(label))
            }))
            .map_err(|x| x.to_string())?;
    }
    let best = if data.best.is_empty() {
        (
            Swatch::Text,
            "no run has a fit distance (no observed data to compare): no best points".into(),
        )
    } else {
        (
            Swatch::Hollow(RING),
            format!(
                "the {} points of lowest mean distance, numbered by rank",
                data.best.len()
            ),
        )
    };
    footer(
        &foot,
        &[
            (
                Swatch::Points(RUN),
                "one run (replicates of a point share x; a switch: 0 false, 1 true)".into(),
            ),
            best,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(point: usize, distance: Option<f64>) -> Run {
        Run {
            point,
            x: vec![point as f64],
            y: distance,
            distance,
        }
    }

    #[test]
    fn the_best_points_have_the_lowest_mean_distance_over_replicates() {
        // Point 0: 1.0 and 3.0 (mean 2.0); point 1: 1.5 twice; point 2: 0.5 and no value;
        // point 3: nothing.
        let runs = [
            run(0, Some(1.0)),
            run(0, Some(3.0)),
            run(1, Some(1.5)),
            run(1, Some(1.5)),
            run(2, Some(0.5)),
            run(2, None),
            run(3, None),
        ];
        assert_eq!(best_points(&runs, 5), [2, 1, 0]);
        assert_eq!(best_points(&runs, 1), [2]);
    }

    #[test]
    fn parameters_over_more_than_two_decades_are_drawn_on_a_log_axis() {
        assert!(log_x(&[1e-6, 2e-4]));
        assert!(!log_x(&[1e-6, 9e-5]));
        assert!(!log_x(&[0.0, 5.0]), "zero cannot be on a log axis");
    }
}
