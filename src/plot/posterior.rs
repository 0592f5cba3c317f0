//! The marginal posteriors of a calibration against their priors, from the calibration's files
//! (`posterior.csv` and `priors.csv`): one panel per parameter, the prior as grey bars, the
//! weighted posterior as blue bars, both as densities over the prior's range (on a log scale for
//! log-uniform priors).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::header_height;
use super::font::font;
use crate::calibrate::posterior::Posterior;
use crate::calibrate::prior::Prior;
use crate::engine::rng::from_key;

/// File name of the figure, without extension.
pub const STEM: &str = "posterior-marginals";

pub(super) const BINS: usize = 30;
const COLUMNS: usize = 4;
const PANEL: (u32, u32) = (640, 470);
/// The legend line under the header.
const LEGEND: u32 = 46;
pub(super) const PRIOR: RGBColor = RGBColor(190, 190, 190);
pub(super) const POSTERIOR: RGBColor = RGBColor(31, 102, 170);

/// One parameter's prior and weighted posterior sample.
#[derive(Clone, Debug)]
pub struct Marginal {
    /// Key path.
    pub path: String,
    /// Prior.
    pub prior: Prior,
    /// `(value, weight)` of every particle.
    pub posterior: Vec<(f64, f64)>,
}

/// What the figure shows.
#[derive(Clone, Debug)]
pub struct Marginals {
    /// Second title line (calibration, generation, particles).
    pub label: String,
    /// One per parameter, in the calibration's order.
    pub marginals: Vec<Marginal>,
}

pub(super) fn read_csv(path: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header = r
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let rows = r
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((header, rows))
}

pub(super) fn number(path: &Path, line: usize, s: &str) -> Result<f64, String> {
    s.parse().map_err(|_| {
        format!(
            "{}:{}: expected a number, found \"{s}\"",
            path.display(),
            line + 2
        )
    })
}

impl Marginals {
    /// Reads a calibration's output folder.
    pub fn read(dir: &Path) -> Result<Marginals, String> {
        let priors_path = dir.join("priors.csv");
        let (_, prior_rows) = read_csv(&priors_path)?;
        let mut marginals = Vec::new();
        for (i, row) in prior_rows.iter().enumerate() {
            let get = |j: usize| row.get(j).unwrap_or("");
            let opt = |j: usize| -> Result<f64, String> { number(&priors_path, i, get(j)) };
            let (min, max) = (opt(2)?, opt(3)?);
            let prior = match get(1) {
                "uniform" => Prior::Uniform { min, max },
                "loguniform" => Prior::LogUniform { min, max },
                "normal" => Prior::Normal {
                    mean: opt(4)?,
                    sd: opt(5)?,
                    min,
                    max,
                },
                "beta" => Prior::Beta {
                    alpha: opt(6)?,
                    beta: opt(7)?,
                    min,
                    max,
                },
                other => {
                    return Err(format!(
                        "{}:{}: unknown prior \"{other}\"",
                        priors_path.display(),
                        i + 2
                    ));
                }
            };
            marginals.push(Marginal {
                path: get(0).to_string(),
                prior,
                posterior: Vec::new(),
            });
        }
        let post = Posterior::read(dir).map_err(|e| e.to_string())?;
        for m in &mut marginals {
            let col = post
                .parameters
                .iter()
                .position(|h| *h == m.path)
                .ok_or_else(|| format!("{}: no column `{}`", post.file.display(), m.path))?;
            m.posterior = post
                .values
                .iter()
                .zip(&post.weights)
                .map(|(v, &w)| (v[col], w))
                .collect();
        }
        let name = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let label = format!(
            "calibration {name}: generation {}, {} particles",
            post.generation,
            post.weights.len()
        );
        Ok(Marginals { label, marginals })
    }

    /// Figure size in pixels.
    pub fn size(&self) -> (u32, u32) {
        let rows = super::draw::grid_rows(self.marginals.len(), COLUMNS) as u32;
        let width = PANEL.0 * COLUMNS as u32;
        (
            width,
            header_height(width, &self.label) + LEGEND + PANEL.1 * rows,
        )
    }
}

/// Working-space coordinate shown on the axis: log10 for log-uniform priors.
pub(super) fn axis_value(prior: &Prior, theta: f64) -> f64 {
    match prior {
        Prior::LogUniform { .. } => theta.log10(),
        _ => theta,
    }
}

/// Density histogram of weighted values over `[lo, hi]`.
pub(super) fn histogram(values: impl Iterator<Item = (f64, f64)>, lo: f64, hi: f64) -> Vec<f64> {
    let width = (hi - lo) / BINS as f64;
    let mut bins = vec![0.0; BINS];
    let mut total = 0.0;
    for (v, w) in values {
        let b = (((v - lo) / width) as usize).min(BINS - 1);
        bins[b] += w;
        total += w;
    }
    bins.iter_mut()
        .for_each(|b| *b /= total.max(f64::MIN_POSITIVE) * width);
    bins
}

/// Splits a long key path at a dot near its middle.
fn two_lines(path: &str) -> (String, String) {
    if path.len() <= 44 {
        return (path.to_string(), String::new());
    }
    let mid = path.len() / 2;
    let cut = path
        .char_indices()
        .filter(|(_, c)| *c == '.')
        .map(|(i, _)| i)
        .min_by_key(|i| i.abs_diff(mid));
    match cut {
        Some(i) => (path[..=i].to_string(), path[i + 1..].to_string()),
        None => (path.to_string(), String::new()),
    }
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &Marginals,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let below = super::draw::header(
        root,
        "Marginal posteriors against their priors",
        &data.label,
    )?;
    let centre = root.dim_in_pixel().0 as i32 / 2;
    let top = Pos::new(HPos::Center, VPos::Top);
    let legend = "grey: prior    blue: posterior (weighted)    line: posterior median";
    below
        .draw_text(legend, &font(26).pos(top), (centre, 0))
        .map_err(e)?;
    let body = below.split_vertically(LEGEND).1;
    let panels = super::draw::panel_grid(&body, data.marginals.len(), COLUMNS);
    for (m, area) in data.marginals.iter().zip(panels.iter()) {
        let (lo, hi) = m.prior.bounds();
        let (lo, hi) = (axis_value(&m.prior, lo), axis_value(&m.prior, hi));
        let mut rng = from_key(0x9_0105 ^ m.path.len() as u64);
        let prior_draws: Vec<(f64, f64)> = (0..20_000)
            .filter_map(|_| m.prior.sample_z(&mut rng))
            .map(|z| (axis_value(&m.prior, m.prior.from_z(z)), 1.0))
            .collect();
        let prior = histogram(prior_draws.into_iter(), lo, hi);
        let post = histogram(
            m.posterior
                .iter()
                .map(|&(v, w)| (axis_value(&m.prior, v), w)),
            lo,
            hi,
        );
        let median = crate::calibrate::smc::weighted_quantile(
            m.posterior
                .iter()
                .map(|&(v, w)| (axis_value(&m.prior, v), w))
                .collect(),
            0.5,
        );
        let y_max = prior.iter().chain(&post).fold(0.0f64, |a, &b| a.max(b)) * 1.1;
        let (first, second) = two_lines(&m.path);
        let caption_top = Pos::new(HPos::Center, VPos::Top);
        let w = area.dim_in_pixel().0 as i32;
        area.draw_text(&first, &font(24).pos(caption_top), (w / 2, 8))
            .map_err(e)?;
        area.draw_text(&second, &font(24).pos(caption_top), (w / 2, 36))
            .map_err(e)?;
        let x_label = match m.prior {
            Prior::LogUniform { .. } => "log10 of value",
            _ => "value",
        };
        let mut chart = ChartBuilder::on(&area.margin(70, 10, 20, 25))
            .x_label_area_size(60)
            .y_label_area_size(0)
            .build_cartesian_2d(lo..hi, 0.0..y_max.max(f64::MIN_POSITIVE))
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_labels(4)
            .x_label_style(font(20))
            .x_desc(x_label)
            .axis_desc_style(font(22))
            .light_line_style(WHITE)
            .draw()
            .map_err(e)?;
        let width = (hi - lo) / BINS as f64;
        for (bins, colour) in [(&prior, PRIOR.mix(0.9)), (&post, POSTERIOR.mix(0.6))] {
            chart
                .draw_series(bins.iter().enumerate().map(|(i, &h)| {
                    let x0 = lo + i as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, h)], colour.filled())
                }))
                .map_err(e)?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(median, 0.0), (median, y_max)],
                POSTERIOR.stroke_width(3),
            )))
            .map_err(e)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_a_density() {
        let h = histogram([(0.01, 1.0), (0.99, 3.0)].into_iter(), 0.0, 1.0);
        let area: f64 = h.iter().sum::<f64>() / BINS as f64;
        assert!((area - 1.0).abs() < 1e-12);
        assert!(h[BINS - 1] == 3.0 * h[0] && h[0] > 0.0);
    }

    #[test]
    fn long_paths_break_at_a_dot() {
        let (a, b) =
            two_lines("events.kim_jong_un_border_crackdown.multiply.transit.CHN_NE.move_on");
        assert!(a.ends_with('.') && !b.is_empty());
        assert_eq!(
            format!("{a}{b}"),
            "events.kim_jong_un_border_crackdown.multiply.transit.CHN_NE.move_on"
        );
    }
}
