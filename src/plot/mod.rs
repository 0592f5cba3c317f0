//! Figures of a run against the observed record, rendered to PNG or SVG bytes (the caller
//! writes them). Built from a run's files, never from simulation memory ([`data`]):
//!
//! | file | figure |
//! |---|---|
//! | `figure1-arrivals-applications` | seed Figure 1: arrivals in the resettlement country (when the scenario has one) and asylum applications in reporting hosts per year; simulated median and 90% band, observed points |
//! | `figure2-hosts-by-year` | seed Figure 2: host × year presence of refugees and asylum-seekers, shaded by whether the host ever had more than 25; observed and simulated side by side; the largest places have a row each, the rest one "others" row |
//! | `figure3-main-hosts` | one panel per main host (largest observed stocks in the run's years): refugee stock and asylum applications, simulated band against observed |
//! | `figure4-unobservables` | people hiding in transit places, repatriations, onward departures from the resettlement country, departures from hosts: simulated only; a panel only where the scenario has the places (and series) behind it |
//! | `posterior-marginals` | a calibration's marginal posteriors (weighted histograms) against their priors |
//! | `posterior-corner` | a calibration's final population, every pair of parameters ([`corner`]) |
//! | `calibration-history` | tolerance, effective sample size and acceptance by generation ([`history`]) |
//! | `calibration-schedules` | a calibration's free schedules over time: posterior median and 90% band at each knot, the prior's 90% band behind ([`schedule`]); only when it has free schedules |
//! | `sbc-ranks` | a simulation-based calibration's rank histograms against uniformity, with coverage ([`sbc`]) |
//! | `sweep` | a merged sweep's distance (or kept output) against each parameter ([`sweep`]) |
//! | `sensitivity-morris`, `sensitivity-sobol` | a sweep's sensitivity indices ([`sensitivity`]) |
//! | `contrast` | a contrast's paired differences over time ([`contrast`]) |
//!
//! Charts over time choose a linear or logarithmic value axis per panel ([`scale`]); stocks and
//! flows never share one. Text is drawn with a font embedded in the binary (module `font`), in
//! SVG as the glyphs' outlines (module `svg`); this module exists only with the `plot` feature.

pub mod contrast;
pub mod corner;
pub mod data;
mod draw;
mod font;
pub mod history;
pub mod posterior;
pub mod sbc;
pub mod scale;
pub mod schedule;
pub mod sensitivity;
mod svg;
pub mod sweep;

use std::fmt;
use std::path::{Component, Path, PathBuf};

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
            Figure::Hosts => (2400, 2400),
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
    S: FnOnce(&DrawingArea<svg::PathText<'_>, plotters::coord::Shift>) -> Result<(), String>,
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
            let face = font::face().ok_or(PlotError::Font)?;
            let texts = svg::Texts::default();
            let mut text = String::new();
            {
                let inner = SVGBackend::with_string(&mut text, size);
                let area = svg::PathText::new(inner, face, texts.clone()).into_drawing_area();
                svg(&area).map_err(err)?;
                area.present().map_err(|e| err(e.to_string()))?;
            }
            let done = svg::PathText::finish(&text, &texts.borrow()).map_err(err)?;
            Ok(done.into_bytes())
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

/// The corner plot of a calibration's final population, as bytes.
pub fn render_corner(data: &posterior::Marginals, format: Format) -> Result<Vec<u8>, PlotError> {
    render_with(
        corner::STEM,
        corner::size(data),
        format,
        |area| corner::draw(data, area),
        |area| corner::draw(data, area),
    )
}

/// A calibration's trajectory over its generations, as bytes.
pub fn render_history(data: &history::History, format: Format) -> Result<Vec<u8>, PlotError> {
    render_with(
        history::STEM,
        data.size(),
        format,
        |area| history::draw(data, area),
        |area| history::draw(data, area),
    )
}

/// A calibration's free schedules over time, as bytes.
pub fn render_schedules(data: &schedule::Schedules, format: Format) -> Result<Vec<u8>, PlotError> {
    render_with(
        schedule::STEM,
        data.size(),
        format,
        |area| schedule::draw(data, area),
        |area| schedule::draw(data, area),
    )
}

/// A simulation-based calibration's rank histograms, as bytes.
pub fn render_sbc(data: &sbc::SbcFigure, format: Format) -> Result<Vec<u8>, PlotError> {
    render_with(
        sbc::STEM,
        data.size(),
        format,
        |area| sbc::draw(data, area),
        |area| sbc::draw(data, area),
    )
}

/// The observed sources as a figure's subtitle names them: paths cleaned of `..` steps, and
/// files of one folder named once with the folder (`a.csv, b.csv and c.csv in data/x`).
pub fn sources_label(paths: &[PathBuf]) -> String {
    let clean: Vec<PathBuf> = paths.iter().map(|p| lexical(p)).collect();
    let parent = |p: &PathBuf| p.parent().map(Path::to_path_buf).unwrap_or_default();
    let one_folder = clean.len() > 1
        && clean.iter().all(|p| p.file_name().is_some())
        && clean.iter().all(|p| parent(p) == parent(&clean[0]));
    if !one_folder {
        let all: Vec<String> = clean.iter().map(|p| p.display().to_string()).collect();
        return all.join(", ");
    }
    let names: Vec<String> = clean
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let (last, rest) = names.split_last().expect("more than one path");
    let folder = parent(&clean[0]);
    let folder = if folder.as_os_str().is_empty() {
        ".".to_string()
    } else {
        folder.display().to_string()
    };
    format!("{} and {last} in {folder}", rest.join(", "))
}

/// `scenarios/../data/x.csv` → `data/x.csv` (no file system access; a leading `..` stays).
fn lexical(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter().collect()
}

/// A sweep's sensitivity figure, as bytes.
pub fn render_sensitivity(
    data: &sensitivity::Sensitivity,
    format: Format,
) -> Result<Vec<u8>, PlotError> {
    render_with(
        data.stem(),
        data.size(),
        format,
        |area| sensitivity::draw(data, area),
        |area| sensitivity::draw(data, area),
    )
}

/// A sweep's output against each parameter, as bytes.
pub fn render_sweep(data: &sweep::SweepFigure, format: Format) -> Result<Vec<u8>, PlotError> {
    render_with(
        sweep::STEM,
        data.size(),
        format,
        |area| sweep::draw(data, area),
        |area| sweep::draw(data, area),
    )
}

/// A contrast's figure, as bytes.
pub fn render_contrast(
    data: &contrast::ContrastFigure,
    format: Format,
) -> Result<Vec<u8>, PlotError> {
    render_with(
        contrast::STEM,
        data.size(),
        format,
        |area| contrast::draw(data, area),
        |area| contrast::draw(data, area),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_of_one_folder_are_named_once_with_the_folder() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            sources_label(&[
                p("scenarios/../data/unhcr-layout/population_eri.csv"),
                p("scenarios/../data/unhcr-layout/asylum_applications_eri.csv"),
                p("scenarios/../data/unhcr-layout/asylum_decisions_eri.csv"),
            ]),
            "population_eri.csv, asylum_applications_eri.csv and asylum_decisions_eri.csv in \
             data/unhcr-layout"
        );
        assert_eq!(sources_label(&[p("data/observed")]), "data/observed");
        assert_eq!(
            sources_label(&[p("a/x.csv"), p("./b/y.csv")]),
            "a/x.csv, b/y.csv"
        );
        assert_eq!(
            sources_label(&[p("x.csv"), p("y.csv")]),
            "x.csv and y.csv in ."
        );
        assert_eq!(lexical(&p("../a/./b/../c")), p("../a/c"));
    }
}
