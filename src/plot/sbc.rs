//! The rank histograms of a simulation-based calibration, from the folder `diaspora sbc` writes
//! (`sbc_summary.csv`, and `sbc.toml` for the number of posterior draws): one panel per free
//! coordinate, the count of replications whose truth ranked in each bin, the count uniform ranks
//! give (a line), and the central 99% binomial interval of each bin's count under uniformity (a
//! band), so a calibrated posterior keeps about one bar in a hundred outside it. A hump in the
//! middle is a posterior too wide, a U too narrow, a slope a biased one.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;
use statrs::distribution::{Binomial, DiscreteCDF};

use super::draw::{Swatch, footer, header_height};
use super::font::font;
use super::posterior::{POSTERIOR, number, read_csv};

/// File name of the figure, without extension.
pub const STEM: &str = "sbc-ranks";

/// The manifest `diaspora sbc` writes beside its tables, listing their hashes.
pub const MANIFEST: &str = "sbc.toml";

/// The table the figure draws; its presence marks a simulation-based calibration folder.
pub const SUMMARY: &str = "sbc_summary.csv";

/// Central probability of the band around the expected count.
pub const LEVEL: f64 = 0.99;

const FIXED: [&str; 6] = [
    "parameter",
    "replications",
    "coverage50",
    "coverage90",
    "chi_square",
    "p_value",
];
const COLUMNS: usize = 3;
const PANEL: (u32, u32) = (800, 580);
const FOOT: u32 = 190;
const BAND: RGBColor = RGBColor(150, 150, 150);
/// The band as it looks on white (its fill is [`BAND`] at 35%), for the legend.
const BAND_CELL: RGBColor = RGBColor(218, 218, 218);

/// One coordinate's row of `sbc_summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranks {
    /// Coordinate (as in `posterior.csv`).
    pub parameter: String,
    /// Replications ranked.
    pub replications: u64,
    /// Share of replications whose central 50% posterior interval held the truth.
    pub coverage50: f64,
    /// The same for the 90% interval.
    pub coverage90: f64,
    /// Pearson's χ² of the bins against uniform ranks.
    pub chi_square: f64,
    /// Its p-value.
    pub p_value: f64,
    /// Replications per rank bin, lowest ranks first.
    pub bins: Vec<u64>,
}

/// What the figure shows.
#[derive(Clone, Debug)]
pub struct SbcFigure {
    /// Second title line.
    pub label: String,
    /// Posterior draws each truth was ranked among (`L`: ranks run from 0 to `L`).
    pub draws: u32,
    /// One per coordinate, in the file's order.
    pub parameters: Vec<Ranks>,
}

/// What the figure needs of `sbc.toml`.
#[derive(Deserialize)]
struct Manifest {
    calibration_file: String,
    replications: u32,
    draws: u32,
    seed: u64,
    particles: usize,
}

impl SbcFigure {
    /// Reads a simulation-based calibration folder.
    pub fn read(dir: &Path) -> Result<SbcFigure, String> {
        let manifest_path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
        let m: Manifest =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
        let path = dir.join(SUMMARY);
        let (header, rows) = read_csv(&path)?;
        let bins = header.len().saturating_sub(FIXED.len());
        let expected: Vec<String> = FIXED
            .iter()
            .map(|s| s.to_string())
            .chain((0..bins.max(1)).map(|b| format!("bin{b}")))
            .collect();
        if header.iter().ne(expected.iter().map(String::as_str)) {
            return Err(format!(
                "{}:1: expected the columns {},bin0,bin1,… (one per rank bin), found {}",
                path.display(),
                FIXED.join(","),
                header.iter().collect::<Vec<_>>().join(",")
            ));
        }
        let mut parameters = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let cell = |j: usize| row.get(j).unwrap_or("");
            let count = |j: usize| -> Result<u64, String> {
                cell(j).parse().map_err(|_| {
                    format!(
                        "{}:{}: {}: expected a count, found \"{}\"",
                        path.display(),
                        i + 2,
                        &header[j],
                        cell(j)
                    )
                })
            };
            let ranks = Ranks {
                parameter: cell(0).to_string(),
                replications: count(1)?,
                coverage50: number(&path, i, cell(2))?,
                coverage90: number(&path, i, cell(3))?,
                chi_square: number(&path, i, cell(4))?,
                p_value: number(&path, i, cell(5))?,
                bins: (FIXED.len()..header.len())
                    .map(count)
                    .collect::<Result<_, _>>()?,
            };
            let held: u64 = ranks.bins.iter().sum();
            if held != ranks.replications {
                return Err(format!(
                    "{}:{}: {}: expected bins holding its {} replications, found {held}",
                    path.display(),
                    i + 2,
                    ranks.parameter,
                    ranks.replications
                ));
            }
            parameters.push(ranks);
        }
        let name = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let label = format!(
            "simulation-based calibration {name}: {}, {} replications of {} particles, each \
             truth ranked among {} posterior draws, seed {}",
            m.calibration_file, m.replications, m.particles, m.draws, m.seed
        );
        Ok(SbcFigure {
            label,
            draws: m.draws,
            parameters,
        })
    }

    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        let columns = self.parameters.len().clamp(1, COLUMNS) as u32;
        let rows = super::draw::grid_rows(self.parameters.len(), COLUMNS) as u32;
        let width = (PANEL.0 * columns).max(1800);
        (
            width,
            header_height(width, &self.label) + PANEL.1 * rows + FOOT,
        )
    }
}

/// The share of the ranks `0..=draws` in each of `bins` bins, binned as
/// [`crate::calibrate::sbc::bin`] bins them (equal when `bins` divides `draws + 1`).
pub fn shares(bins: usize, draws: u32) -> Vec<f64> {
    let ranks = draws as usize + 1;
    let mut held = vec![0usize; bins];
    for rank in 0..ranks {
        held[(rank * bins / ranks).min(bins - 1)] += 1;
    }
    held.iter().map(|&h| h as f64 / ranks as f64).collect()
}

/// Per bin, `(lower, expected, upper)`: the count uniform ranks give among `replications`, and
/// the central [`LEVEL`] interval of the binomial count around it.
pub fn expected(replications: u64, shares: &[f64]) -> Vec<(f64, f64, f64)> {
    let tail = (1.0 - LEVEL) / 2.0;
    shares
        .iter()
        .map(|&p| {
            let mean = replications as f64 * p;
            match Binomial::new(p.clamp(0.0, 1.0), replications) {
                Ok(b) => (
                    b.inverse_cdf(tail) as f64,
                    mean,
                    b.inverse_cdf(1.0 - tail) as f64,
                ),
                Err(_) => (mean, mean, mean),
            }
        })
        .collect()
}

/// `x` of each bin's step, `y` from `value` of each bin: `(0, v0), (1, v0), (1, v1), …, (K, vK−1)`.
fn steps(values: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    values
        .enumerate()
        .flat_map(|(b, v)| [(b as f64, v), (b as f64 + 1.0, v)])
        .collect()
}

/// A p-value as printed: `= 0.123`, or `< 0.001`.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("= {p:.3}")
    }
}

/// Draws the figure.
pub fn draw<DB: DrawingBackend>(
    data: &SbcFigure,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let area = super::draw::header(
        root,
        "Simulation-based calibration: ranks of the truth among posterior draws",
        &data.label,
    )?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - FOOT);
    let n = data.parameters.len();
    let panels = super::draw::panel_grid(&body, n, n.clamp(1, COLUMNS));
    for (ranks, panel) in data.parameters.iter().zip(&panels) {
        ranks_panel(ranks, data.draws, panel).map_err(|m| format!("{}: {m}", ranks.parameter))?;
    }
    let lines = foot.split_evenly((3, 1));
    footer(
        &lines[0],
        &[
            (Swatch::Cell(POSTERIOR), "replications per rank bin".into()),
            (Swatch::Line(BLACK), "expected under uniform ranks".into()),
            (
                Swatch::Cell(BAND_CELL),
                format!("central {:.0}% binomial interval", LEVEL * 100.0),
            ),
        ],
    )?;
    footer(
        &lines[1],
        &[(
            Swatch::Text,
            "uniform ranks: a calibrated posterior; a hump in the middle: too wide; a U: too \
             narrow; a slope: biased"
                .into(),
        )],
    )?;
    footer(
        &lines[2],
        &[(
            Swatch::Text,
            "coverage: the share of replications whose central 50% (90%) posterior interval \
             held the truth"
                .into(),
        )],
    )
}

/// One coordinate's panel.
fn ranks_panel<DB: DrawingBackend>(
    ranks: &Ranks,
    draws: u32,
    panel: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let k = ranks.bins.len();
    let shares = shares(k, draws);
    let expected = expected(ranks.replications, &shares);
    let top = Pos::new(HPos::Center, VPos::Top);
    let w = panel.dim_in_pixel().0;
    let mut title = font(28);
    if let Ok((tw, _)) = title.font.box_size(&ranks.parameter)
        && tw > w.saturating_sub(40)
    {
        title = font((28 * w.saturating_sub(40) / tw).max(14));
    }
    panel
        .draw_text(&ranks.parameter, &title.pos(top), (w as i32 / 2, 12))
        .map_err(e)?;
    let coverage = format!(
        "coverage 50%: {:.2}, 90%: {:.2}; uniformity χ² p {}",
        ranks.coverage50,
        ranks.coverage90,
        p_text(ranks.p_value)
    );
    panel
        .draw_text(&coverage, &font(22).pos(top), (w as i32 / 2, 48))
        .map_err(e)?;
    let highest = ranks
        .bins
        .iter()
        .map(|&c| c as f64)
        .chain(expected.iter().map(|x| x.2))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&panel.margin(84, 10, 10, 20))
        .x_label_area_size(70)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..k as f64, 0.0..highest * 1.12)
        .map_err(e)?;
    let ranks_total = f64::from(draws) + 1.0;
    let edge = |x: &f64| {
        let b = x.round();
        if (x - b).abs() > 1e-6 || b >= k as f64 {
            return String::new();
        }
        format!("{}", (b * ranks_total / k as f64).ceil())
    };
    let count = |y: &f64| {
        if (y - y.round()).abs() < 1e-6 {
            format!("{y:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(format!("rank among {draws} draws (first rank of each bin)"))
        .y_desc("replications")
        .label_style(font(20))
        .axis_desc_style(font(22))
        .x_labels(k + 1)
        .x_label_formatter(&edge)
        .y_label_formatter(&count)
        .max_light_lines(0)
        .bold_line_style(RGBColor(225, 225, 225).stroke_width(1))
        .draw()
        .map_err(e)?;
    let upper = steps(expected.iter().map(|x| x.2));
    let lower = steps(expected.iter().map(|x| x.0));
    chart
        .draw_series(std::iter::once(Polygon::new(
            upper
                .into_iter()
                .chain(lower.into_iter().rev())
                .collect::<Vec<_>>(),
            BAND.mix(0.35).filled(),
        )))
        .map_err(e)?;
    chart
        .draw_series(ranks.bins.iter().enumerate().map(|(b, &c)| {
            let x = b as f64;
            Rectangle::new(
                [(x + 0.08, 0.0), (x + 0.92, c as f64)],
                POSTERIOR.mix(0.8).filled(),
            )
        }))
        .map_err(e)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            steps(expected.iter().map(|x| x.1)),
            BLACK.stroke_width(3),
        )))
        .map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::sbc::{BINS, bin};

    #[test]
    fn shares_bin_ranks_as_the_calibration_does() {
        for draws in [9, 14, 50, 99, 100, 250] {
            let mut held = [0u32; BINS];
            for rank in 0..=draws {
                held[bin(rank, draws)] += 1;
            }
            let want: Vec<f64> = held
                .iter()
                .map(|&h| f64::from(h) / f64::from(draws + 1))
                .collect();
            assert_eq!(shares(BINS, draws), want, "L = {draws}");
        }
        assert_eq!(shares(10, 99), vec![0.1; 10]);
    }

    #[test]
    fn the_band_is_the_central_99_percent_of_binomial_counts() {
        // Summed by hand from the binomial probabilities: Bin(200, 0.1) has P(X ≤ 9) = 0.0035
        // and P(X ≤ 10) = 0.0081 (≥ 0.005), P(X ≤ 31) = 0.9946 and P(X ≤ 32) = 0.9971.
        assert_eq!(expected(200, &[0.1]), [(10.0, 20.0, 32.0)]);
        // Bin(50, 0.1): P(X = 0) = 0.0052 ≥ 0.005; P(X ≤ 10) = 0.9906, P(X ≤ 11) = 0.9968.
        assert_eq!(expected(50, &[0.1]), [(0.0, 5.0, 11.0)]);
    }

    #[test]
    fn a_summary_is_read_with_its_columns_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            "calibration_file = \"c.toml\"\nreplications = 4\ndraws = 9\nseed = 1\n\
             particles = 20\n",
        )
        .unwrap();
        let summary = |text: &str| {
            std::fs::write(dir.path().join(SUMMARY), text).unwrap();
            SbcFigure::read(dir.path())
        };
        let head = "parameter,replications,coverage50,coverage90,chi_square,p_value,bin0,bin1\n";
        let f = summary(&format!("{head}a.b,4,0.5,0.75,1.5,0.2,1,3\n")).unwrap();
        assert_eq!(f.draws, 9);
        assert_eq!(f.parameters[0].bins, [1, 3]);
        assert_eq!(f.parameters[0].coverage90, 0.75);
        let tail = |e: String| e.split_once(SUMMARY).unwrap().1.to_string();
        assert_eq!(
            tail(summary(&format!("{head}a.b,4,0.5,0.75,1.5,0.2,1,2\n")).unwrap_err()),
            ":2: a.b: expected bins holding its 4 replications, found 3"
        );
        assert_eq!(
            tail(summary(&format!("{head}a.b,4,0.5,0.75,1.5,0.2,1,x\n")).unwrap_err()),
            ":2: bin1: expected a count, found \"x\""
        );
        let e = tail(summary("parameter,replications,bin0\na,1,1\n").unwrap_err());
        assert!(
            e.starts_with(":1: expected the columns parameter,replications,"),
            "{e}"
        );
    }
}
