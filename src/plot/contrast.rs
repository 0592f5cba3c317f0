//! The figure of a contrast, from its `contrast.csv`: the paired difference B − A over time
//! (median and 90% band across replicates, a line at zero) for the series that differ most,
//! each summed over its places, sex total.
//!
//! Panels: the series whose median difference, summed over the years, is largest in absolute
//! value (at most six; series of people by state, `population_*`, and the host counts are left
//! out: they restate the others).

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::header_height;
use super::font::font;
use super::sensitivity::short;
use crate::contrast::EVERY_PLACE;
use crate::contrast::table::ContrastRow;
use crate::observe::Sex;

/// File stem of the figure.
pub const STEM: &str = "contrast";

const MAX_PANELS: usize = 6;
const COLUMNS: usize = 2;
const BAND: RGBColor = RGBColor(31, 102, 170);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// One series' difference by year: `(p05, p50, p95)`.
type Line = BTreeMap<i32, (f64, f64, f64)>;

/// What the figure shows.
#[derive(Clone, Debug)]
pub struct ContrastFigure {
    /// Second title line.
    pub label: String,
    panels: Vec<(String, Line)>,
}

impl ContrastFigure {
    /// The figure's data from the rows of `contrast.csv`.
    pub fn new(label: String, rows: &[ContrastRow]) -> ContrastFigure {
        // Per series: the `*` rows where a series has several places, else its only place.
        let mut by_series: BTreeMap<&str, BTreeMap<&str, Line>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.key.sex == Sex::Total) {
            by_series
                .entry(&r.key.series)
                .or_default()
                .entry(&r.key.place)
                .or_default()
                .insert(r.key.year, (r.p05, r.p50, r.p95));
        }
        let mut lines: Vec<(String, Line, f64)> = Vec::new();
        for (series, places) in by_series {
            if series.starts_with("population_") || series.starts_with("hosts_with") {
                continue;
            }
            let line = match places.get(EVERY_PLACE) {
                Some(l) => l.clone(),
                None if places.len() == 1 => places.into_values().next().expect("one"),
                None => continue,
            };
            let size: f64 = line.values().map(|v| v.1).sum::<f64>().abs();
            let spread = line.values().any(|v| v.0 != 0.0 || v.2 != 0.0);
            if spread {
                lines.push((series.to_string(), line, size));
            }
        }
        lines.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        ContrastFigure {
            label,
            panels: lines
                .into_iter()
                .take(MAX_PANELS)
                .map(|(s, l, _)| (s, l))
                .collect(),
        }
    }

    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        let rows = super::draw::grid_rows(self.panels.len(), COLUMNS) as u32;
        (2600, header_height(2600, &self.label) + 760 * rows)
    }
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &ContrastFigure,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let body = super::draw::header(
        root,
        "Paired difference B − A by year: median and 90% band across replicates",
        &data.label,
    )?;
    let centre = root.dim_in_pixel().0 as i32 / 2;
    let top = Pos::new(HPos::Center, VPos::Top);
    if data.panels.is_empty() {
        body.draw_text("the runs do not differ", &font(40).pos(top), (centre, 200))
            .map_err(e)?;
        return Ok(());
    }
    let areas = super::draw::panel_grid(&body, data.panels.len(), COLUMNS);
    for ((series, line), area) in data.panels.iter().zip(areas.iter()) {
        let (y0, y1) = (
            *line.keys().next().expect("years"),
            *line.keys().last().expect("years"),
        );
        let lo = line.values().map(|v| v.0.min(v.1)).fold(0.0f64, f64::min);
        let hi = line.values().map(|v| v.2.max(v.1)).fold(0.0f64, f64::max);
        let pad = ((hi - lo) * 0.08).max(1e-9);
        let mut chart = ChartBuilder::on(&area.margin(20, 40, 20, 20))
            .caption(format!("{series} (summed over places)"), font(32))
            .x_label_area_size(80)
            .y_label_area_size(150)
            .build_cartesian_2d(f64::from(y0) - 0.5..f64::from(y1) + 0.5, lo - pad..hi + pad)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("year")
            .y_desc("B − A")
            .label_style(font(24))
            .axis_desc_style(font(26))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|v| short(*v))
            .max_light_lines(0)
            .bold_line_style(GRID.stroke_width(1))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(f64::from(y0) - 0.5, 0.0), (f64::from(y1) + 0.5, 0.0)],
                BLACK.mix(0.5).stroke_width(2),
            )))
            .map_err(e)?;
        let upper = line.iter().map(|(&y, v)| (f64::from(y), v.2));
        let lower = line.iter().rev().map(|(&y, v)| (f64::from(y), v.0));
        chart
            .draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                BAND.mix(0.22).filled(),
            )))
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(
                line.iter().map(|(&y, v)| (f64::from(y), v.1)),
                BAND.stroke_width(4),
            ))
            .map_err(e)?;
    }
    Ok(())
}
