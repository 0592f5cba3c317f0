//! How a calibration went, from its `history.csv`: the tolerance each generation accepted at,
//! the effective sample size of each population (against the number of particles), and the
//! share of simulations accepted (`simulation_acceptance`; proposals outside the prior are never
//! simulated, so this is the cost that matters), one panel each, over the generations. A
//! `history.csv` written before that column existed gives the acceptance rate per proposal.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::header_height;
use super::font::font;
use super::posterior::{number, read_csv};

/// File name of the figure, without extension.
pub const STEM: &str = "calibration-history";

const SIZE: (u32, u32) = (2700, 900);
const LINE: RGBColor = RGBColor(31, 102, 170);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// One generation of `history.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Generation {
    /// Index (0 = the prior sample).
    pub generation: u32,
    /// Tolerance (infinite for generation 0).
    pub tolerance: f64,
    /// Accepted particles per proposal.
    pub acceptance_rate: f64,
    /// Accepted particles per simulation (`None`: not in the file).
    pub simulation_acceptance: Option<f64>,
    /// Effective sample size.
    pub ess: f64,
}

/// What the figure shows.
#[derive(Clone, Debug)]
pub struct History {
    /// Second title line.
    pub label: String,
    /// Particles per generation (the largest possible ESS).
    pub particles: usize,
    /// The generations, in order.
    pub generations: Vec<Generation>,
}

impl History {
    /// Reads `dir/history.csv`; `particles` is the population size.
    pub fn read(dir: &Path, label: String, particles: usize) -> Result<History, String> {
        let path = dir.join("history.csv");
        let (header, rows) = read_csv(&path)?;
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| format!("{}:1: no column `{name}`", path.display()))
        };
        let (g, t, a, e) = (
            column("generation")?,
            column("tolerance")?,
            column("acceptance_rate")?,
            column("ess")?,
        );
        let per_simulation = column("simulation_acceptance").ok();
        let mut generations = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let cell = |j: usize| row.get(j).unwrap_or("");
            let generation = cell(g).parse().map_err(|_| {
                format!(
                    "{}:{}: expected a generation number, found \"{}\"",
                    path.display(),
                    i + 2,
                    cell(g)
                )
            })?;
            generations.push(Generation {
                generation,
                tolerance: number(&path, i, cell(t))?,
                acceptance_rate: number(&path, i, cell(a))?,
                simulation_acceptance: per_simulation
                    .map(|s| number(&path, i, cell(s)))
                    .transpose()?,
                ess: number(&path, i, cell(e))?,
            });
        }
        Ok(History {
            label,
            particles,
            generations,
        })
    }

    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        (SIZE.0, SIZE.1 + header_height(SIZE.0, &self.label))
    }
}

/// One panel: `points` (generation, value) as a line with dots, from 0 to above the largest
/// value (and `reference`, a dashed level, if given).
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    points: &[(f64, f64)],
    reference: Option<f64>,
    last: f64,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let top = points
        .iter()
        .map(|p| p.1)
        .chain(reference)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(24)
        .caption(caption, font(34))
        .x_label_area_size(80)
        .y_label_area_size(130)
        .build_cartesian_2d(-0.5..last + 0.5, 0.0..top)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("generation")
        .y_desc(y_desc)
        .label_style(font(26))
        .axis_desc_style(font(28))
        .x_labels((last as usize + 1).min(16))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .draw()
        .map_err(e)?;
    if let Some(r) = reference {
        chart
            .draw_series(DashedLineSeries::new(
                [(-0.5, r), (last + 0.5, r)],
                12,
                8,
                BLACK.mix(0.5).stroke_width(2),
            ))
            .map_err(e)?;
    }
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            LINE.stroke_width(4),
        ))
        .map_err(e)?;
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, 8, LINE.filled())))
        .map_err(e)?;
    Ok(())
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &History,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let body = super::draw::header(
        root,
        "Calibration by generation: tolerance, effective sample size, acceptance",
        &data.label,
    )?;
    let panels = body.split_evenly((1, 3));
    let last = data.generations.last().map_or(0, |g| g.generation) as f64;
    let series = |f: fn(&Generation) -> f64| -> Vec<(f64, f64)> {
        data.generations
            .iter()
            .filter(|g| f(g).is_finite())
            .map(|g| (f64::from(g.generation), f(g)))
            .collect()
    };
    panel(
        &panels[0],
        "Tolerance (generation 0: the prior, none)",
        "distance accepted at",
        &series(|g| g.tolerance),
        None,
        last,
    )?;
    panel(
        &panels[1],
        "Effective sample size (dashed: particles)",
        "ESS = 1 / Σ w²",
        &series(|g| g.ess),
        Some(data.particles as f64),
        last,
    )?;
    let per_simulation = !data.generations.is_empty()
        && data
            .generations
            .iter()
            .all(|g| g.simulation_acceptance.is_some());
    if per_simulation {
        panel(
            &panels[2],
            "Acceptance per simulation",
            "percent of simulations accepted",
            &series(|g| 100.0 * g.simulation_acceptance.unwrap_or(f64::NAN)),
            None,
            last,
        )
    } else {
        panel(
            &panels[2],
            "Acceptance rate per proposal",
            "percent",
            &series(|g| 100.0 * g.acceptance_rate),
            None,
            last,
        )
    }
}
