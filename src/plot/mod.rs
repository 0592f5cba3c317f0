//! Figures of a run against the observed record, rendered to PNG or SVG bytes (the caller
//! writes them). Built from a run's files, never from simulation memory ([`data`]):
//!
//! | file | figure |
//! |---|---|
//! | `figure1-arrivals-applications` | seed Figure 1: arrivals in the resettlement country and asylum applications in reporting hosts per year; simulated median and 90% band, observed points |
//! | `figure2-hosts-by-year` | seed Figure 2: host × year presence of refugees and asylum-seekers, shaded by whether the host ever had more than 25; observed and simulated side by side |
//! | `figure3-main-hosts` | one panel per main host (largest observed stocks): refugee stock and asylum applications, simulated band against observed |
//! | `figure4-unobservables` | people hiding in transit places, repatriations, onward departures: simulated only |
//! | `posterior-marginals` | a calibration's marginal posteriors (weighted histograms) against their priors |
//!
//! Text is drawn with a font embedded in the binary (module `font`); this module exists only with
//! the `plot` feature.

pub mod data;
mod draw;
mod font;
pub mod posterior;

use std::fmt;

use plotters::prelude::*;

pub use data::PlotData;

/// Image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Raster, 8-bit RGB.
    Png,
    /// Vector.
    Svg,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A figure that could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font could not be loaded.
    #[error("the embedded font could not be loaded")]
    Font,
    /// Drawing or encoding failed.
    #[error("{figure}: {message}")]
    Draw {
        /// Figure file stem.
        figure: &'static str,
        /// What failed.
        message: String,
    },
}

/// The figures, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Seed Figure 1 analogue.
    Arrivals,
    /// Seed Figure 2 analogue.
    Heatmap,
    /// Main hosts.
    Hosts,
    /// Unobservables.
    Unobservables,
}

impl Figure {
    /// Every figure.
    pub const ALL: [Figure; 4] = [
        Figure::Arrivals,
        Figure::Heatmap,
        Figure::Hosts,
        Figure::Unobservables,
    ];

    /// File name without extension.
    pub fn stem(self) -> &'static str {
        match self {
            Figure::Arrivals => "figure1-arrivals-applications",
            Figure::Heatmap => "figure2-hosts-by-year",
            Figure::Hosts => "figure3-main-hosts",
            Figure::Unobservables => "figure4-unobservables",
        }
    }

    /// Size in pixels (about 300 dpi at the width of a printed page).
    fn size(self) -> (u32, u32) {
        match self {
            Figure::Arrivals => (2000, 1250),
            Figure::Heatmap => (2600, 1400),
            Figure::Hosts => (2400, 1700),
            Figure::Unobservables => (2700, 1000),
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        data: &PlotData,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String> {
        match self {
            Figure::Arrivals => draw::arrivals(data, area),
            Figure::Heatmap => draw::heatmap(data, area),
            Figure::Hosts => draw::hosts(data, area),
            Figure::Unobservables => draw::unobservables(data, area),
        }
    }
}

/// Every figure as `(file name, bytes)`.
pub fn render_all(data: &PlotData, format: Format) -> Result<Vec<(String, Vec<u8>)>, PlotError> {
    Figure::ALL
        .iter()
        .map(|&f| Ok((format!("{}.{format}", f.stem()), render(data, f, format)?)))
        .collect()
}

/// One figure's bytes.
pub fn render(data: &PlotData, figure: Figure, format: Format) -> Result<Vec<u8>, PlotError> {
    render_with(
        figure.stem(),
        figure.size(),
        format,
        |area| figure.draw(data, area),
        |area| figure.draw(data, area),
    )
}

/// Draws with `svg` or `png` (the same drawing, monomorphised for each backend) and encodes.
fn render_with<S, P>(
    stem: &'static str,
    size: (u32, u32),
    format: Format,
    svg: S,
    png: P,
) -> Result<Vec<u8>, PlotError>
where
    S: FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
    P: FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
{
    if !font::ensure() {
        return Err(PlotError::Font);
    }
    let err = |message: String| PlotError::Draw {
        figure: stem,
        message,
    };
    match format {
        Format::Svg => {
            let mut text = String::new();
            {
                let area = SVGBackend::with_string(&mut text, size).into_drawing_area();
                svg(&area).map_err(err)?;
                area.present().map_err(|e| err(e.to_string()))?;
            }
            Ok(text.into_bytes())
        }
        Format::Png => {
            let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let area = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                png(&area).map_err(err)?;
                area.present().map_err(|e| err(e.to_string()))?;
            }
            encode_png(&rgb, size).map_err(err)
        }
    }
}

/// The marginal posteriors of a calibration against their priors, as bytes.
pub fn render_marginals(data: &posterior::Marginals, format: Format) -> Result<Vec<u8>, PlotError> {
    render_with(
        posterior::STEM,
        data.size(),
        format,
        |area| posterior::draw(data, area),
        |area| posterior::draw(data, area),
    )
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}
