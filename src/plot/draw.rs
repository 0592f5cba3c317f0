//! The drawing: one function per figure, generic over the backend so PNG and SVG share one
//! code path. Sizes are in pixels of figures about 2,000 px wide, so text stays readable when a
//! figure is printed at the width of a page.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::PlotData;
use super::data::{Bands, HeatRow, Line, MAX_PLACES, Points, unit};
use super::font::font;
use super::scale::{Axis, Choice, Scale};
use crate::observed::Measure;

type Area<DB> = DrawingArea<DB, Shift>;

/// Simulated series, first colour (blue).
const SIM: RGBColor = RGBColor(31, 102, 170);
/// Simulated series, second colour (orange).
const SIM2: RGBColor = RGBColor(214, 96, 10);
/// Seed Figure 2: more than 25 in at least one year (dark red).
const SUSTAINED: RGBColor = RGBColor(165, 15, 21);
/// Seed Figure 2: at most 25 in every year (yellow).
const SPORADIC: RGBColor = RGBColor(240, 190, 50);
/// Figure 2's others row: the sum of the places without a row of their own (grey).
const OTHERS: RGBColor = RGBColor(120, 120, 120);
/// Lines for places within a total.
const PLACE_COLOURS: [RGBColor; 6] = [
    RGBColor(27, 158, 119),
    RGBColor(117, 112, 179),
    RGBColor(231, 41, 138),
    RGBColor(102, 166, 30),
    RGBColor(166, 118, 29),
    RGBColor(102, 102, 102),
];
const GRID: RGBColor = RGBColor(225, 225, 225);

const TITLE: u32 = 46;
const SUBTITLE: u32 = 32;
const CAPTION: u32 = 36;
const LABEL: u32 = 28;
const DESC: u32 = 30;
const LEGEND: u32 = 28;

trait OrDraw<T> {
    fn d(self) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> OrDraw<T> for Result<T, E> {
    fn d(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Where a figure's subtitle starts, and the height of each of its lines.
const SUBTITLE_TOP: u32 = 24 + TITLE + 14;
const SUBTITLE_LINE: u32 = SUBTITLE + 8;

/// The subtitle cut into lines that fit a figure `width` pixels wide.
fn subtitle_lines(width: u32, subtitle: &str) -> Vec<String> {
    let style = font(SUBTITLE);
    let room = width.saturating_sub(120);
    wrap(subtitle, |s| {
        style.font.box_size(s).is_ok_and(|(w, _)| w <= room)
    })
}

/// The height of a figure's header ([`header`]): its title and its subtitle wrapped to `width`.
pub fn header_height(width: u32, subtitle: &str) -> u32 {
    SUBTITLE_TOP + SUBTITLE_LINE * subtitle_lines(width, subtitle).len() as u32 + 8
}

/// Clears `root` to white and writes a figure's title and, under it, its subtitle (the run or
/// calibration it shows), centred and wrapped to the figure's width; returns the area below.
pub fn header<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
) -> Result<Area<DB>, String> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    root.fill(&WHITE).d()?;
    let width = root.dim_in_pixel().0;
    let centre = width as i32 / 2;
    let top = Pos::new(HPos::Center, VPos::Top);
    root.draw_text(title, &font(TITLE).pos(top), (centre, 24))
        .d()?;
    let style = font(SUBTITLE);
    let mut y = SUBTITLE_TOP as i32;
    for line in subtitle_lines(width, subtitle) {
        root.draw_text(&line, &style.pos(top), (centre, y)).d()?;
        y += SUBTITLE_LINE as i32;
    }
    Ok(root.split_vertically(header_height(width, subtitle)).1)
}

/// Wraps text that does not fit on one line: at each `; ` first, then greedily at spaces (a
/// word too long for a line gets a line of its own).
fn wrap(text: &str, fits: impl Fn(&str) -> bool) -> Vec<String> {
    if fits(text) {
        return vec![text.to_string()];
    }
    let mut lines: Vec<String> = Vec::new();
    for clause in text.split_inclusive("; ") {
        let mut line = String::new();
        for word in clause.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if line.is_empty() || fits(&candidate) {
                line = candidate;
            } else {
                lines.push(std::mem::replace(&mut line, word.to_string()));
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// `12,345`
pub(super) fn thousands(v: f64) -> String {
    if v.abs() < 1000.0 {
        let s = format!("{v:.1}");
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// What a legend entry shows.
#[derive(Clone, Copy)]
pub(super) enum Swatch {
    /// A band with its median line.
    Band(RGBColor),
    /// A line.
    Line(RGBColor),
    /// Filled points.
    Points(RGBColor),
    /// Hollow points.
    Hollow(RGBColor),
    /// The interval of a masked observation.
    Interval(RGBColor),
    /// A filled cell.
    Cell(RGBColor),
    /// Text alone.
    Text,
}

/// Draws a legend on one line at the bottom of `area`, starting at the left.
pub(super) fn footer<DB: DrawingBackend>(
    area: &Area<DB>,
    items: &[(Swatch, String)],
) -> Result<(), String> {
    let (_, h) = area.dim_in_pixel();
    let y = h as i32 / 2;
    let mut x = 40;
    let style = font(LEGEND);
    for (swatch, text) in items {
        if !matches!(swatch, Swatch::Text) {
            draw_swatch(area, *swatch, (x, y))?;
            x += 56;
        }
        area.draw_text(
            text,
            &style.pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            )),
            (x, y),
        )
        .d()?;
        let (w, _) = area.estimate_text_size(text, &style).d()?;
        x += w as i32 + 50;
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    area: &Area<DB>,
    swatch: Swatch,
    (x, y): (i32, i32),
) -> Result<(), String> {
    match swatch {
        Swatch::Band(c) => {
            area.draw(&Rectangle::new(
                [(x, y - 12), (x + 44, y + 12)],
                c.mix(0.22).filled(),
            ))
            .d()?;
            area.draw(&PathElement::new(
                vec![(x, y), (x + 44, y)],
                c.stroke_width(4),
            ))
            .d()
        }
        Swatch::Line(c) => area
            .draw(&PathElement::new(
                vec![(x, y), (x + 44, y)],
                c.stroke_width(3),
            ))
            .d(),
        Swatch::Points(c) => area.draw(&Circle::new((x + 22, y), 8, c.filled())).d(),
        Swatch::Hollow(c) => area
            .draw(&Circle::new((x + 22, y), 8, c.stroke_width(3)))
            .d(),
        Swatch::Interval(c) => {
            let (x, top, bottom) = (x + 22, y - 13, y + 13);
            let stem = vec![
                (x - 9, bottom),
                (x + 9, bottom),
                (x, bottom),
                (x, top),
                (x - 9, top),
                (x + 9, top),
            ];
            area.draw(&PathElement::new(stem, c.stroke_width(3))).d()
        }
        Swatch::Cell(c) => {
            area.draw(&Rectangle::new(
                [(x + 4, y - 14), (x + 40, y + 14)],
                c.filled(),
            ))
            .d()?;
            area.draw(&Rectangle::new(
                [(x + 4, y - 14), (x + 40, y + 14)],
                BLACK.mix(0.3).stroke_width(1),
            ))
            .d()
        }
        Swatch::Text => Ok(()),
    }
}

fn x_range(years: (i32, i32)) -> std::ops::Range<f64> {
    f64::from(years.0) - 0.5..f64::from(years.1) + 0.5
}

/// Rows of a grid of `n` panels, `columns` to a row (at least one row).
pub(super) fn grid_rows(n: usize, columns: usize) -> usize {
    n.div_ceil(columns).max(1)
}

/// `body` split into a grid for `n` panels, `columns` to a row, filled row by row.
pub(super) fn panel_grid<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    n: usize,
    columns: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    body.split_evenly((grid_rows(n, columns), columns))
}

/// A chart over years (x) and values on a chosen axis (y).
pub(super) type YearChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, ValueRange>>;

/// A value axis as plotters' coordinate: linear, with the ticks and light lines its axis chose
/// (an [`Axis`] here, a schedule's axis in `schedule.rs`).
pub(super) struct ValueRange {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
    minor: Vec<f64>,
}

impl ValueRange {
    pub(super) fn new(range: std::ops::Range<f64>, ticks: &[f64], minor: &[f64]) -> Self {
        Self {
            linear: range.into(),
            ticks: ticks.to_vec(),
            minor: minor.to_vec(),
        }
    }
}

impl Ranged for ValueRange {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// Text sizes of one chart, and whether its x axis is described (not above another chart).
#[derive(Clone, Copy)]
pub(super) struct Sizes {
    caption: u32,
    label: u32,
    desc: u32,
    x_area: u32,
    y_area: u32,
    year_desc: bool,
}

const FULL: Sizes = Sizes {
    caption: CAPTION,
    label: LABEL,
    desc: DESC,
    x_area: 90,
    y_area: 140,
    year_desc: true,
};

pub(super) const PANEL: Sizes = Sizes {
    caption: 34,
    label: 26,
    desc: 28,
    x_area: 80,
    y_area: 130,
    year_desc: true,
};

/// The upper chart of a panel that has another below it.
const UPPER: Sizes = Sizes {
    x_area: 44,
    year_desc: false,
    ..PANEL
};

/// The interval marker's half width, in years.
const CAP: f64 = 0.3;

/// Axes of a chart over years (x) and values on `axis` (y), with their mesh drawn.
fn year_axes<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    caption: &str,
    years: (i32, i32),
    axis: &Axis,
    y_desc: &str,
    sizes: Sizes,
) -> Result<YearChart<'a, DB>, String> {
    let x = XAxis {
        range: x_range(years),
        desc: if sizes.year_desc { "year" } else { "" },
        format: &|x| format!("{x:.0}"),
    };
    value_axes(area, caption, &x, axis, y_desc, sizes)
}

/// A chart's x axis: its range, description ("" for none) and tick labels.
pub(super) struct XAxis<'f> {
    pub range: std::ops::Range<f64>,
    pub desc: &'f str,
    pub format: &'f dyn Fn(&f64) -> String,
}

/// Axes of a chart over `x` and values on `axis` (y), with their mesh drawn.
pub(super) fn value_axes<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    caption: &str,
    x: &XAxis<'_>,
    axis: &Axis,
    y_desc: &str,
    sizes: Sizes,
) -> Result<YearChart<'a, DB>, String> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(24)
        .x_label_area_size(sizes.x_area)
        .y_label_area_size(sizes.y_area);
    if !caption.is_empty() {
        builder.caption(caption, font(sizes.caption));
    }
    let y = ValueRange::new(0.0..axis.top, &axis.ticks, &axis.minor);
    let mut chart = builder.build_cartesian_2d(x.range.clone(), y).d()?;
    let y_label = |a: &f64| thousands(axis.value_at(*a));
    let mut mesh = chart.configure_mesh();
    if !x.desc.is_empty() {
        mesh.x_desc(x.desc);
    }
    mesh.y_desc(format!("{y_desc}{}", axis.scale.note()))
        .label_style(font(sizes.label))
        .axis_desc_style(font(sizes.desc))
        .x_labels(8)
        .x_label_formatter(x.format)
        .y_label_formatter(&y_label)
        .x_max_light_lines(0)
        .light_line_style(GRID.mix(0.45).stroke_width(1))
        .bold_line_style(GRID.stroke_width(1))
        .draw()
        .d()?;
    Ok(chart)
}

/// Every value a line puts on its chart in `years` (its band, its observed values and their
/// intervals): what decides the axis.
fn line_values(line: &Line, years: (i32, i32)) -> Vec<f64> {
    let inside = |y: &&i32| (years.0..=years.1).contains(*y);
    let observed = |points: &Points| -> Vec<f64> {
        points
            .iter()
            .filter(|(y, _)| inside(y))
            .flat_map(|(_, p)| [p.value, p.lower()])
            .collect()
    };
    let mut v: Vec<f64> = line
        .sim
        .iter()
        .filter(|(y, _)| inside(y))
        .flat_map(|(_, b)| [b.p05, b.p50, b.p95])
        .collect();
    v.extend(observed(&line.obs));
    if let Some((_, extra)) = &line.obs_extra {
        v.extend(observed(extra));
    }
    v
}

/// The value axis of a chart of `lines`: one measure, a scale chosen from their values.
fn value_axis(
    lines: &[&Line],
    years: (i32, i32),
    choice: Choice,
) -> Result<(Axis, Measure), String> {
    let measure = lines.first().map_or(Measure::Flow, |l| l.measure);
    if lines.iter().any(|l| l.measure != measure) {
        return Err("stocks and flows cannot share a value axis".into());
    }
    let values: Vec<f64> = lines.iter().flat_map(|l| line_values(l, years)).collect();
    let scale = Scale::choose(choice, values.iter().copied());
    let max = values.iter().copied().fold(0.0, f64::max);
    Ok((scale.axis(max), measure))
}

/// A band (5th to 95th percentile) with its median line.
fn draw_band<DB: DrawingBackend>(
    chart: &mut YearChart<'_, DB>,
    bands: &Bands,
    scale: Scale,
    colour: RGBColor,
) -> Result<(), String> {
    if bands.is_empty() {
        return Ok(());
    }
    let at = |y: &i32, v: f64| (f64::from(*y), scale.to_axis(v));
    let upper = bands.iter().map(|(y, b)| at(y, b.p95));
    let lower = bands.iter().rev().map(|(y, b)| at(y, b.p05));
    chart
        .draw_series(std::iter::once(Polygon::new(
            upper.chain(lower).collect::<Vec<_>>(),
            colour.mix(0.22).filled(),
        )))
        .d()?;
    chart
        .draw_series(LineSeries::new(
            bands.iter().map(|(y, b)| at(y, b.p50)),
            colour.stroke_width(4),
        ))
        .d()?;
    Ok(())
}

/// The I-shaped marker of a masked observation, from `lower` to `upper` (axis coordinates) at
/// `x`: one polyline, the stem drawn between two caps.
pub fn interval(x: f64, lower: f64, upper: f64) -> Vec<(f64, f64)> {
    vec![
        (x - CAP, lower),
        (x + CAP, lower),
        (x, lower),
        (x, upper),
        (x - CAP, upper),
        (x + CAP, upper),
    ]
}

/// Observed values in `years`: a point each (hollow for a line's extra points), or the
/// interval `[lower, value]` where masked cells make the value uncertain.
fn draw_observed<DB: DrawingBackend>(
    chart: &mut YearChart<'_, DB>,
    points: &Points,
    years: (i32, i32),
    scale: Scale,
    colour: RGBColor,
    hollow: bool,
) -> Result<(), String> {
    let inside = |y: &i32| (years.0..=years.1).contains(y);
    let shown = || points.iter().filter(|(y, _)| inside(y));
    chart
        .draw_series(shown().filter(|(_, p)| p.masked_cells > 0).map(|(&y, p)| {
            let stem = interval(
                f64::from(y),
                scale.to_axis(p.lower()),
                scale.to_axis(p.value),
            );
            PathElement::new(stem, colour.stroke_width(if hollow { 2 } else { 3 }))
        }))
        .d()?;
    chart
        .draw_series(shown().filter(|(_, p)| p.masked_cells == 0).map(|(&y, p)| {
            let at = (f64::from(y), scale.to_axis(p.value));
            if hollow {
                Circle::new(at, 9, colour.stroke_width(3))
            } else {
                Circle::new(at, 7, colour.filled())
            }
        }))
        .d()?;
    Ok(())
}

/// A time-series chart of lines of one measure: each line's simulated band and median, and its
/// observed points and intervals. Legends are drawn by the caller.
fn time_chart<DB: DrawingBackend>(
    area: &Area<DB>,
    caption: &str,
    years: (i32, i32),
    lines: &[(&Line, RGBColor)],
    sizes: Sizes,
    choice: Choice,
) -> Result<(), String> {
    let all: Vec<&Line> = lines.iter().map(|(l, _)| *l).collect();
    let (axis, measure) = value_axis(&all, years, choice)?;
    let mut chart = year_axes(area, caption, years, &axis, unit(measure), sizes)?;
    for (line, colour) in lines {
        draw_band(&mut chart, &line.sim, axis.scale, *colour)?;
    }
    for (line, colour) in lines {
        if let Some((_, extra)) = &line.obs_extra {
            draw_observed(&mut chart, extra, years, axis.scale, *colour, true)?;
        }
        draw_observed(&mut chart, &line.obs, years, axis.scale, *colour, false)?;
    }
    Ok(())
}

/// Whether any observed value of `lines` in `years` is masked.
fn any_masked<'a>(lines: impl IntoIterator<Item = &'a Line>, years: (i32, i32)) -> bool {
    lines.into_iter().any(|l| {
        l.obs
            .iter()
            .chain(l.obs_extra.iter().flat_map(|(_, e)| e.iter()))
            .any(|(y, p)| (years.0..=years.1).contains(y) && p.masked_cells > 0)
    })
}

/// The legend entry of masked observations.
fn masked_legend(colour: RGBColor) -> (Swatch, String) {
    (Swatch::Interval(colour), "masked: 1–5 per cell".to_string())
}

/// How a band is described: a run's replicates, or draws from a posterior.
fn band_words(data: &PlotData) -> String {
    match data.predictive_draws {
        None => "simulated median, 90% band".to_string(),
        Some(d) => format!("posterior predictive ({d} draws): median, 90% band"),
    }
}

/// Legend entries of a line: its label, band, observed points, extra observed points.
fn line_legend(data: &PlotData, line: &Line, colour: RGBColor) -> Vec<(Swatch, String)> {
    let mut items = vec![
        (Swatch::Text, format!("{}:", line.label)),
        (Swatch::Band(colour), band_words(data)),
        (Swatch::Points(colour), "observed".to_string()),
    ];
    if let Some((label, _)) = &line.obs_extra {
        items.push((Swatch::Hollow(colour), label.clone()));
    }
    if any_masked([line], data.years) {
        items.push(masked_legend(colour));
    }
    items
}

/// Figure 1.
pub fn arrivals<DB: DrawingBackend>(data: &PlotData, root: &Area<DB>) -> Result<(), String> {
    let area = header(root, &data.arrivals.title, &data.run_label)?;
    let colours = [SIM, SIM2];
    let lines: Vec<(&Line, RGBColor)> = data.arrivals.lines.iter().zip(colours).collect();
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 65 * lines.len().max(1) as u32);
    time_chart(&body, "", data.years, &lines, FULL, data.y_scale)?;
    let rows = foot.split_evenly((lines.len().max(1), 1));
    for ((line, colour), row) in lines.iter().zip(&rows) {
        footer(row, &line_legend(data, line, *colour))?;
    }
    Ok(())
}

/// Figure 2.
pub fn heatmap<DB: DrawingBackend>(data: &PlotData, root: &Area<DB>) -> Result<(), String> {
    let area = header(
        root,
        "Refugees and asylum-seekers by host and year",
        &data.run_label,
    )?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 80);
    // The same rows, in the same places, in both panels.
    let places: Vec<&str> = data.heatmap.rows.iter().map(String::as_str).collect();
    let panels = body.split_evenly((1, 2));
    heat_panel(
        &panels[0],
        "Observed (UNHCR)",
        data.years,
        &places,
        &data.heatmap.observed,
    )?;
    heat_panel(
        &panels[1],
        &match data.predictive_draws {
            None => format!("Simulated (median of {} replicates)", data.replicates),
            Some(d) => format!("Posterior predictive (median of {d} draws)"),
        },
        data.years,
        &places,
        &data.heatmap.simulated,
    )?;
    let mut legend = vec![
        (
            Swatch::Cell(SUSTAINED),
            "more than 25 in at least one year".to_string(),
        ),
        (
            Swatch::Cell(SPORADIC),
            "25 or fewer in every year".to_string(),
        ),
    ];
    if !data.heatmap.folded.is_empty() {
        legend.push((
            Swatch::Cell(OTHERS),
            format!(
                "the {} smaller places together (above zero)",
                data.heatmap.folded.len()
            ),
        ));
    }
    legend.push((
        Swatch::Cell(WHITE),
        "blank: none, or not reported".to_string(),
    ));
    footer(&foot, &legend)
}

fn heat_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    caption: &str,
    years: (i32, i32),
    places: &[&str],
    rows: &[HeatRow],
) -> Result<(), String> {
    let n = places.len().max(1);
    let top = |i: usize| (n - 1 - i) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(24)
        .caption(caption, font(CAPTION))
        .x_label_area_size(90)
        .y_label_area_size(if places.iter().any(|p| p.len() > 4) {
            170
        } else {
            110
        })
        .build_cartesian_2d(x_range(years), -0.5..n as f64 - 0.5)
        .d()?;
    let names: Vec<String> = places.iter().map(|p| p.to_string()).collect();
    let label = move |v: &f64| {
        let i = v.round();
        if (v - i).abs() > 1e-6 || i < 0.0 || i as usize >= n {
            return String::new();
        }
        names.get(n - 1 - i as usize).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("year")
        .label_style(font(24))
        .axis_desc_style(font(DESC))
        .x_labels(8)
        .y_labels(n)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&label)
        .draw()
        .d()?;
    let x = x_range(years);
    let by_place: BTreeMap<&str, &HeatRow> = rows.iter().map(|r| (r.place.as_str(), r)).collect();
    for (i, place) in places.iter().enumerate() {
        let y = top(i);
        if i % 2 == 0 {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x.start, y - 0.5), (x.end, y + 0.5)],
                    RGBColor(246, 246, 246).filled(),
                )))
                .d()?;
        }
        let Some(row) = by_place.get(place) else {
            continue;
        };
        let colour = if row.folded > 0 {
            OTHERS
        } else if row.sustained() {
            SUSTAINED
        } else {
            SPORADIC
        };
        chart
            .draw_series(
                row.values
                    .iter()
                    .filter(|(y, v)| (years.0..=years.1).contains(y) && **v > 0.0)
                    .map(|(&year, _)| {
                        let yr = f64::from(year);
                        Rectangle::new(
                            [(yr - 0.45, y - 0.4), (yr + 0.45, y + 0.4)],
                            colour.filled(),
                        )
                    }),
            )
            .d()?;
    }
    Ok(())
}

/// Figure 3: per host, the refugee stock (people at year end) above the asylum applications
/// (people per year), each on its own axis.
pub fn hosts<DB: DrawingBackend>(data: &PlotData, root: &Area<DB>) -> Result<(), String> {
    let area = header(
        root,
        "Refugee stock and asylum applications in the main hosts",
        &data.run_label,
    )?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 130);
    let n = data.hosts.hosts.len();
    if n == 0 {
        return footer(
            &foot,
            &[(Swatch::Line(BLACK), "no host series in this run".into())],
        );
    }
    let cols = if n > 4 { 3 } else { 2.min(n) };
    let rows = n.div_ceil(cols);
    let panels = body.split_evenly((rows, cols));
    for ((place, refugees, applications), panel) in data.hosts.hosts.iter().zip(&panels) {
        let caption = panel_caption(panel, place, data.place_names.get(place))?;
        let Some(applications) = applications else {
            time_chart(
                panel,
                &caption,
                data.years,
                &[(refugees, SIM)],
                PANEL,
                data.y_scale,
            )?;
            continue;
        };
        let (upper, lower) = panel.split_vertically(panel.dim_in_pixel().1 * 52 / 100);
        let (years, choice) = (data.years, data.y_scale);
        time_chart(&upper, &caption, years, &[(refugees, SIM)], UPPER, choice)?;
        time_chart(&lower, "", years, &[(applications, SIM2)], PANEL, choice)?;
    }
    let (refugees, applications) = (&data.hosts.hosts[0].1, &data.hosts.hosts[0].2);
    let mut items = vec![
        (
            Swatch::Band(SIM),
            format!("{} ({})", refugees.label, unit(refugees.measure)),
        ),
        (Swatch::Points(SIM), "observed".to_string()),
    ];
    if let Some(a) = applications {
        items.push((
            Swatch::Band(SIM2),
            format!("{} ({})", a.label, unit(a.measure)),
        ));
        items.push((Swatch::Points(SIM2), "observed".to_string()));
    }
    let lines = data
        .hosts
        .hosts
        .iter()
        .flat_map(|(_, r, a)| std::iter::once(r).chain(a));
    let mut second = vec![(
        Swatch::Text,
        match data.predictive_draws {
            None => "lines: simulated median; bands: 90% of replicates".to_string(),
            Some(d) => format!("lines: median; bands: 90% of {d} posterior-predictive draws"),
        },
    )];
    if any_masked(lines, data.years) {
        second.insert(0, masked_legend(BLACK));
    }
    let rows = foot.split_evenly((2, 1));
    footer(&rows[0], &items)?;
    footer(&rows[1], &second)
}

/// `DEU — Germany`, without the name's parenthesis, or the id alone, if the panel is too narrow.
fn panel_caption<DB: DrawingBackend>(
    panel: &Area<DB>,
    place: &str,
    name: Option<&String>,
) -> Result<String, String> {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Ok(place.to_string());
    };
    let room = panel.dim_in_pixel().0.saturating_sub(60);
    let short = name.split(" (").next().unwrap_or(name);
    for caption in [format!("{place} — {name}"), format!("{place} — {short}")] {
        let (w, _) = panel
            .estimate_text_size(&caption, &font(PANEL.caption))
            .d()?;
        if w <= room {
            return Ok(caption);
        }
    }
    Ok(place.to_string())
}

/// Figure 4.
pub fn unobservables<DB: DrawingBackend>(data: &PlotData, root: &Area<DB>) -> Result<(), String> {
    let area = header(
        root,
        "What the statistics do not count (simulated)",
        &data.run_label,
    )?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 80);
    let panels = body.split_evenly((1, data.unobservables.panels.len().max(1)));
    for (u, panel) in data.unobservables.panels.iter().zip(&panels) {
        let total = Line {
            label: "total".into(),
            measure: u.measure,
            sim: u.total.clone(),
            obs: Points::new(),
            obs_extra: None,
        };
        let (axis, _) = value_axis(&[&total], data.years, data.y_scale)?;
        let scale = axis.scale;
        // Each place's median as a thin line over the total's band (at most six places).
        let mut chart = year_axes(panel, &u.title, data.years, &axis, unit(u.measure), PANEL)?;
        draw_band(&mut chart, &u.total, scale, SIM)?;
        if u.by_place.len() > 1 {
            for ((place, med), colour) in u.by_place.iter().zip(PLACE_COLOURS.iter().cycle()) {
                let colour = *colour;
                chart
                    .draw_series(LineSeries::new(
                        med.iter().map(|(&y, &v)| (f64::from(y), scale.to_axis(v))),
                        colour.stroke_width(2),
                    ))
                    .d()?
                    .label(place.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 40, y)], colour.stroke_width(3))
                    });
            }
            chart
                .configure_series_labels()
                .label_font(font(24))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .d()?;
        }
    }
    if data.unobservables.panels.is_empty() {
        return footer(
            &foot,
            &[(Swatch::Text, "no unobservable series in this run".into())],
        );
    }
    let mut legend = vec![(
        Swatch::Band(SIM),
        format!("total over places: {}", band_words(data)),
    )];
    if data
        .unobservables
        .panels
        .iter()
        .any(|u| u.by_place.len() > 1)
    {
        legend.push((
            Swatch::Line(PLACE_COLOURS[0]),
            format!("median by place (the {MAX_PLACES} largest)"),
        ));
    }
    footer(&foot, &legend)
}

#[cfg(test)]
mod tests {
    use super::{thousands, wrap};

    #[test]
    fn long_subtitles_wrap_at_spaces_within_the_width() {
        let fits = |s: &str| s.len() <= 10;
        assert_eq!(wrap("aaa bbb ccc ddd", fits), ["aaa bbb", "ccc ddd"]);
        assert_eq!(wrap("short", fits), ["short"]);
        assert_eq!(wrap("a b; c d", fits), ["a b; c d"], "fits: one line");
        assert_eq!(wrap("a b; c d e f g", fits), ["a b;", "c d e f g"]);
        assert_eq!(
            wrap("averyveryverylongword x", fits),
            ["averyveryverylongword", "x"]
        );
        assert_eq!(wrap("", fits), [""]);
    }

    #[test]
    fn axis_numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(2.5), "2.5");
        assert_eq!(thousands(950.0), "950");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(-45000.0), "-45,000");
    }
}
