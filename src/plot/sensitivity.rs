//! Figures of a sensitivity analysis, from a sweep's `sensitivity.csv`: Morris `μ*` against
//! `σ` (one panel per output, each parameter a numbered point with the bootstrap interval of
//! `μ*`, and the line `σ = μ*` above which effects are mostly non-linear or interactions), and
//! the Sobol indices as bars (first-order and total, with their intervals, parameters ranked by
//! the total index).

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::header_height;
use super::font::font;
use crate::sensitivity::{Index, TableRow};
use crate::sweep::results::OutputName;

/// File stem of the Morris figure.
pub const MORRIS: &str = "sensitivity-morris";
/// File stem of the Sobol figure.
pub const SOBOL: &str = "sensitivity-sobol";

const COLUMNS: usize = 2;
const POINT: RGBColor = RGBColor(31, 102, 170);
const TOTAL: RGBColor = RGBColor(31, 102, 170);
const FIRST: RGBColor = RGBColor(240, 150, 60);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// A parameter's indices by name: `index → (value, confidence interval)`.
type IndexValues = BTreeMap<&'static str, (f64, Option<(f64, f64)>)>;

/// One output's indices per parameter.
#[derive(Clone, Debug, Default)]
struct Panel {
    output: OutputName,
    /// `(rank, parameter, indices)`, in rank order.
    parameters: Vec<(usize, String, IndexValues)>,
    noise_share: Option<f64>,
}

/// What a sensitivity figure shows.
#[derive(Clone, Debug)]
pub struct Sensitivity {
    /// Second title line (sweep, design, replicates).
    pub label: String,
    /// `morris` or `sobol`.
    pub method: String,
    panels: Vec<Panel>,
}

impl Sensitivity {
    /// The figure's data from the rows of `sensitivity.csv` (outputs kept per year are left
    /// out: they are many, and belong to a figure over time).
    pub fn new(label: String, rows: &[TableRow]) -> Sensitivity {
        let mut panels: Vec<Panel> = Vec::new();
        let mut method = String::new();
        for r in rows.iter().filter(|r| r.output.year.is_none()) {
            method.clone_from(&r.method);
            if panels.last().is_none_or(|p| p.output != r.output) {
                panels.push(Panel {
                    output: r.output.clone(),
                    ..Panel::default()
                });
            }
            let panel = panels.last_mut().expect("pushed");
            match (r.index, r.rank) {
                (Index::NoiseShare, _) => panel.noise_share = Some(r.value),
                (Index::S2 | Index::Variance, _) | (_, None) => {}
                (index, Some(rank)) => {
                    let at = match panel.parameters.iter().position(|p| p.1 == r.parameter) {
                        Some(i) => i,
                        None => {
                            panel
                                .parameters
                                .push((rank, r.parameter.clone(), BTreeMap::new()));
                            panel.parameters.len() - 1
                        }
                    };
                    panel.parameters[at].2.insert(index.name(), (r.value, r.ci));
                }
            }
        }
        for p in &mut panels {
            p.parameters.sort_by_key(|x| x.0);
        }
        Sensitivity {
            label,
            method,
            panels,
        }
    }

    /// File stem of the figure.
    pub fn stem(&self) -> &'static str {
        if self.method == "sobol" {
            SOBOL
        } else {
            MORRIS
        }
    }

    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        let rows = super::draw::grid_rows(self.panels.len(), COLUMNS) as u32;
        let params = self
            .panels
            .iter()
            .map(|p| p.parameters.len())
            .max()
            .unwrap_or(1) as u32;
        let panel_h = if self.method == "sobol" {
            (260 + 64 * params).max(700)
        } else {
            // The chart (900 px) above the list of parameters (44 px a line).
            900 + 44 * params + 20
        };
        (2800, header_height(2800, &self.label) + rows * panel_h)
    }

    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.panels.is_empty()
    }
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &Sensitivity,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let title = if data.method == "sobol" {
        "Sobol indices: first-order (S1) and total (ST), 95% bootstrap intervals"
    } else {
        "Morris screening: mean absolute effect μ* against spread σ"
    };
    let body = super::draw::header(root, title, &data.label)?;
    let areas = super::draw::panel_grid(&body, data.panels.len(), COLUMNS);
    for (panel, area) in data.panels.iter().zip(areas.iter()) {
        if data.method == "sobol" {
            sobol_panel(panel, area)?;
        } else {
            morris_panel(panel, area)?;
        }
    }
    Ok(())
}

fn caption(p: &Panel) -> String {
    match p.noise_share {
        Some(n) => format!(
            "{}   (replicate noise {:.1}% of the variance)",
            p.output,
            100.0 * n
        ),
        None => p.output.to_string(),
    }
}

fn morris_panel<DB: DrawingBackend>(
    p: &Panel,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let get = |m: &IndexValues, k: &str| m.get(k).copied().unwrap_or((f64::NAN, None));
    let (w, h) = area.dim_in_pixel();
    let list_h = 44 * p.parameters.len() as u32 + 20;
    let (chart_area, list) = area.split_vertically(h.saturating_sub(list_h));
    let mut x_max = 0.0f64;
    let mut y_max = 0.0f64;
    for (_, _, m) in &p.parameters {
        let (mu_star, ci) = get(m, "mu_star");
        x_max = x_max.max(ci.map_or(mu_star, |c| c.1)).max(mu_star);
        y_max = y_max.max(get(m, "sigma").0);
    }
    let x_max = if x_max > 0.0 && x_max.is_finite() {
        x_max * 1.1
    } else {
        1.0
    };
    let y_max = if y_max > 0.0 && y_max.is_finite() {
        y_max * 1.15
    } else {
        1.0
    };
    let mut chart = ChartBuilder::on(&chart_area.margin(20, 40, 20, 20))
        .caption(caption(p), font(32))
        .x_label_area_size(80)
        .y_label_area_size(150)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("μ* (mean |elementary effect|, output per parameter range)")
        .y_desc("σ (sd of elementary effects)")
        .label_style(font(24))
        .axis_desc_style(font(26))
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| short(*v))
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .draw()
        .map_err(e)?;
    let diag = x_max.min(y_max);
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (diag, diag)],
            BLACK.mix(0.35).stroke_width(2),
        )))
        .map_err(e)?;
    for (rank, _, m) in &p.parameters {
        let (x, ci) = get(m, "mu_star");
        let y = get(m, "sigma").0;
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        if let Some((lo, hi)) = ci {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(lo, y), (hi, y)],
                    POINT.mix(0.6).stroke_width(3),
                )))
                .map_err(e)?;
        }
        chart
            .draw_series(std::iter::once(Circle::new((x, y), 9, POINT.filled())))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                rank.to_string(),
                (x, y),
                font(26).pos(Pos::new(HPos::Left, VPos::Bottom)),
            )))
            .map_err(e)?;
    }
    let left = Pos::new(HPos::Left, VPos::Top);
    for (i, (rank, name, m)) in p.parameters.iter().enumerate() {
        let (mu_star, _) = get(m, "mu_star");
        let line = format!(
            "{rank}. {name}   μ* {}   σ {}",
            short(mu_star),
            short(get(m, "sigma").0)
        );
        list.draw_text(&line, &font(24).pos(left), (170, 10 + 44 * i as i32))
            .map_err(e)?;
    }
    let _ = w;
    Ok(())
}

fn sobol_panel<DB: DrawingBackend>(p: &Panel, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let n = p.parameters.len();
    let mut lo = 0.0f64;
    let mut hi = 1.0f64;
    for (_, _, m) in &p.parameters {
        for k in ["S1", "ST"] {
            if let Some(&(v, ci)) = m.get(k) {
                let (a, b) = ci.unwrap_or((v, v));
                lo = lo.min(a).min(v);
                hi = hi.max(b).max(v);
            }
        }
    }
    let (w, _) = area.dim_in_pixel();
    let label_w = (w as f64 * 0.42) as u32;
    let (labels, plot) = area.split_horizontally(label_w);
    let mut chart = ChartBuilder::on(&plot.margin(20, 40, 10, 10))
        .caption(caption(p), font(28))
        .x_label_area_size(80)
        .y_label_area_size(10)
        .build_cartesian_2d(lo..hi * 1.02, 0.0..n as f64)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("index (share of the output variance)")
        .label_style(font(24))
        .axis_desc_style(font(26))
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, n as f64)],
            BLACK.mix(0.5).stroke_width(2),
        )))
        .map_err(e)?;
    for (i, (_, _, m)) in p.parameters.iter().enumerate() {
        let row = (n - 1 - i) as f64;
        for (k, colour, y0, y1) in [
            ("ST", TOTAL, row + 0.52, row + 0.88),
            ("S1", FIRST, row + 0.12, row + 0.48),
        ] {
            let Some(&(v, ci)) = m.get(k) else { continue };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y0), (v, y1)],
                    colour.mix(0.85).filled(),
                )))
                .map_err(e)?;
            if let Some((a, b)) = ci {
                let y = (y0 + y1) / 2.0;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(a, y), (b, y)],
                        BLACK.stroke_width(3),
                    )))
                    .map_err(e)?;
                for x in [a, b] {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, y0 + 0.05), (x, y1 - 0.05)],
                            BLACK.stroke_width(3),
                        )))
                        .map_err(e)?;
                }
            }
        }
    }
    // Parameter names at the height of their bars (the chart's plotting area spans its
    // pixel range minus the caption and the x labels).
    let (_, ph) = plot.dim_in_pixel();
    let (top, bottom) = (20 + 50, ph as i32 - 10 - 80);
    let step = f64::from(bottom - top) / n.max(1) as f64;
    let right = Pos::new(HPos::Right, VPos::Center);
    for (i, (rank, name, _)) in p.parameters.iter().enumerate() {
        let y = top + (step * (i as f64 + 0.5)) as i32;
        labels
            .draw_text(
                &format!("{rank}. {name}"),
                &font(24).pos(right),
                (label_w as i32 - 10, y),
            )
            .map_err(e)?;
    }
    let legend = Pos::new(HPos::Left, VPos::Center);
    let (_, lh) = labels.dim_in_pixel();
    for (i, (text, colour)) in [("total index ST", TOTAL), ("first-order index S1", FIRST)]
        .iter()
        .enumerate()
    {
        let y = lh as i32 - 60 + 30 * i as i32;
        labels
            .draw(&Rectangle::new(
                [(30, y - 10), (70, y + 10)],
                colour.mix(0.85).filled(),
            ))
            .map_err(e)?;
        labels
            .draw_text(text, &font(22).pos(legend), (80, y))
            .map_err(e)?;
    }
    Ok(())
}

/// A number in about four significant digits.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}
