//! The corner plot of a calibration: every pair of free parameters as a weighted scatter of the
//! final population (a dot per particle, larger for a heavier one) below the
//! diagonal, and each parameter's weighted posterior histogram on the diagonal, all over the
//! priors' ranges (log10 for log-uniform priors). Trade-offs between parameters (more exits
//! with slower brokers giving the same arrivals) show as diagonal ridges that the marginals
//! hide.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::header_height;
use super::font::font;
use super::posterior::{BINS, Marginal, Marginals, POSTERIOR, axis_value, histogram};
use crate::calibrate::prior::Prior;

/// File name of the figure, without extension.
pub const STEM: &str = "posterior-corner";

const MARGIN: u32 = 40;
const KEY_LINE: u32 = 34;
const BORDER: RGBColor = RGBColor(200, 200, 200);

/// Side of one cell in pixels: the figure stays about 2,400 px wide.
fn cell(k: usize) -> u32 {
    (2400 / k.max(1) as u32).clamp(160, 400)
}

/// Size in pixels of the corner plot of `data`.
pub fn size(data: &Marginals) -> (u32, u32) {
    let k = data.marginals.len();
    let width = 2 * MARGIN + cell(k) * k as u32;
    let key = KEY_LINE * k.div_ceil(2) as u32 + 20;
    (
        width.max(1600),
        header_height(width.max(1600), &data.label) + cell(k) * k as u32 + key + MARGIN,
    )
}

/// The range of a parameter on its axis, and the value of each particle there.
fn coordinates(m: &Marginal) -> ((f64, f64), Vec<f64>) {
    let (lo, hi) = m.prior.bounds();
    let range = (axis_value(&m.prior, lo), axis_value(&m.prior, hi));
    let values = m
        .posterior
        .iter()
        .map(|&(v, _)| axis_value(&m.prior, v))
        .collect();
    (range, values)
}

/// `exit.base_rate.value` → `base_rate.value`: the last two parts of a key path.
fn short(path: &str) -> &str {
    let mut dots = path.rmatch_indices('.').map(|(i, _)| i);
    match (dots.next(), dots.next()) {
        (Some(_), Some(i)) => &path[i + 1..],
        _ => path,
    }
}

/// Dot radius in pixels of a particle of weight `w` when the largest weight is `max`: 2 px
/// plus up to 5 px growing with the square root of the weight (so the added area grows with it).
fn radius(w: f64, max: f64) -> u32 {
    (2.0 + 5.0 * (w / max).sqrt()).round() as u32
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &Marginals,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let body = super::draw::header(
        root,
        "Posterior: every pair of parameters (dots: particles, larger by weight)",
        &data.label,
    )?;
    let k = data.marginals.len();
    let side = cell(k) * k as u32;
    let (grid, key) = body.split_vertically(side + MARGIN / 2);
    let grid = grid.margin(MARGIN / 2, 0, MARGIN, 0);
    let grid = grid.split_horizontally(side).0;
    let cells = grid.split_evenly((k, k));
    let coords: Vec<((f64, f64), Vec<f64>)> = data.marginals.iter().map(coordinates).collect();
    let weights: Vec<f64> = data
        .marginals
        .first()
        .map(|m| m.posterior.iter().map(|p| p.1).collect())
        .unwrap_or_default();
    let max_w = weights.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
    let small = font(if k > 8 { 18 } else { 22 });
    for (index, area) in cells.iter().enumerate() {
        let (i, j) = (index / k, index % k);
        if j > i {
            continue;
        }
        let (w, h) = area.dim_in_pixel();
        area.draw(&Rectangle::new(
            [(0, 0), (w as i32 - 1, h as i32 - 1)],
            BORDER.stroke_width(1),
        ))
        .map_err(e)?;
        let inner = area.margin(6, 6, 6, 6);
        let ((xlo, xhi), xs) = &coords[j];
        if i == j {
            let bins = histogram(xs.iter().copied().zip(weights.iter().copied()), *xlo, *xhi);
            let top = bins
                .iter()
                .copied()
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE)
                * 1.25;
            let mut chart = ChartBuilder::on(&inner)
                .build_cartesian_2d(*xlo..*xhi, 0.0..top)
                .map_err(e)?;
            let width = (xhi - xlo) / BINS as f64;
            chart
                .draw_series(bins.iter().enumerate().map(|(b, &v)| {
                    let x0 = xlo + b as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, v)], POSTERIOR.mix(0.6).filled())
                }))
                .map_err(e)?;
            let m = &data.marginals[i];
            let caption = format!("{}. {}", i + 1, short(&m.path));
            let top_left = Pos::new(HPos::Left, VPos::Top);
            area.draw_text(&caption, &small.pos(top_left), (8, 8))
                .map_err(e)?;
            continue;
        }
        let ((ylo, yhi), ys) = &coords[i];
        let mut chart = ChartBuilder::on(&inner)
            .build_cartesian_2d(*xlo..*xhi, *ylo..*yhi)
            .map_err(e)?;
        chart
            .draw_series(xs.iter().zip(ys).zip(&weights).map(|((&x, &y), &w)| {
                Circle::new((x, y), radius(w, max_w), POSTERIOR.mix(0.35).filled())
            }))
            .map_err(e)?;
    }
    let rows = key.split_evenly((k.div_ceil(2).max(1), 2));
    let left = Pos::new(HPos::Left, VPos::Top);
    for (n, (m, area)) in data.marginals.iter().zip(rows.iter()).enumerate() {
        let axis = match m.prior {
            Prior::LogUniform { .. } => "log10 axis",
            _ => "linear axis",
        };
        let text = format!("{}. {} ~ {} ({axis})", n + 1, m.path, m.prior.describe());
        area.draw_text(&text, &font(24).pos(left), (MARGIN as i32, 4))
            .map_err(e)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_keep_the_last_two_parts() {
        assert_eq!(short("exit.base_rate.value"), "base_rate.value");
        assert_eq!(short("a.b"), "a.b");
        assert_eq!(short("rate"), "rate");
    }

    #[test]
    fn dot_area_is_proportional_to_weight() {
        assert_eq!(radius(1.0, 1.0), 7);
        assert_eq!(radius(0.0, 1.0), 2);
        assert_eq!(radius(0.25, 1.0), 5, "2 + 5 × 0.5, rounded");
    }
}
