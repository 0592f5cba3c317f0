//! The drawing: one function per figure, generic over the backend so PNG and SVG share one
//! code path. Sizes are in pixels of figures about 2,000 px wide, so text stays readable when a
//! figure is printed at the width of a page.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::PlotData;
use super::data::{HeatRow, Line, MAX_PLACES};
use super::font::font;

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

/// Fills the area and writes the figure's title and, below it, the run it shows (wrapped to
/// the figure's width); returns the area below them.
fn titled<DB: DrawingBackend>(
    area: &Area<DB>,
    title: &str,
    data: &PlotData,
) -> Result<Area<DB>, String> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    area.fill(&WHITE).d()?;
    let width = area.dim_in_pixel().0;
    let centre = width as i32 / 2;
    let top = Pos::new(HPos::Center, VPos::Top);
    area.draw_text(title, &font(TITLE).pos(top), (centre, 24))
        .d()?;
    let style = font(SUBTITLE);
    let room = width.saturating_sub(120);
    let lines = wrap(&data.run_label, |s| {
        area.estimate_text_size(s, &style)
            .is_ok_and(|(w, _)| w <= room)
    });
    let mut y = 24 + TITLE as i32 + 14;
    for line in &lines {
        area.draw_text(line, &style.pos(top), (centre, y)).d()?;
        y += SUBTITLE as i32 + 8;
    }
    Ok(area.split_vertically(y as u32 + 8).1)
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
fn thousands(v: f64) -> String {
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
enum Swatch {
    /// A band with its median line.
    Band(RGBColor),
    /// A line.
    Line(RGBColor),
    /// Filled points.
    Points(RGBColor),
    /// Hollow points.
    Hollow(RGBColor),
    /// A filled cell.
    Cell(RGBColor),
    /// Text alone.
    Text,
}

/// Draws a legend on one line at the bottom of `area`, starting at the left.
fn footer<DB: DrawingBackend>(area: &Area<DB>, items: &[(Swatch, String)]) -> Result<(), String> {
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

fn y_max(lines: &[&Line]) -> f64 {
    let mut m: f64 = 0.0;
    for l in lines {
        m = l.sim.values().map(|b| b.p95.max(b.p50)).fold(m, f64::max);
        m = l.obs.values().copied().fold(m, f64::max);
        if let Some((_, extra)) = &l.obs_extra {
            m = extra.values().copied().fold(m, f64::max);
        }
    }
    if m > 0.0 { m * 1.08 } else { 1.0 }
}

/// Text sizes of one chart.
#[derive(Clone, Copy)]
struct Sizes {
    caption: u32,
    label: u32,
    desc: u32,
    x_area: u32,
    y_area: u32,
}

const FULL: Sizes = Sizes {
    caption: CAPTION,
    label: LABEL,
    desc: DESC,
    x_area: 90,
    y_area: 140,
};

const PANEL: Sizes = Sizes {
    caption: 34,
    label: 26,
    desc: 28,
    x_area: 80,
    y_area: 130,
};

/// Axes of a chart over years (x) and persons (y, from 0 to `top`), with their mesh drawn.
fn year_axes<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    caption: &str,
    years: (i32, i32),
    top: f64,
    y_desc: &str,
    sizes: Sizes,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(24)
        .x_label_area_size(sizes.x_area)
        .y_label_area_size(sizes.y_area);
    if !caption.is_empty() {
        builder.caption(caption, font(sizes.caption));
    }
    let mut chart = builder.build_cartesian_2d(x_range(years), 0f64..top).d()?;
    chart
        .configure_mesh()
        .x_desc("year")
        .y_desc(y_desc)
        .label_style(font(sizes.label))
        .axis_desc_style(font(sizes.desc))
        .x_labels(8)
        .y_labels(7)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| thousands(*y))
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .draw()
        .d()?;
    Ok(chart)
}

/// A time-series chart: each line's simulated band and median, and its observed points.
/// Returns nothing; legends are drawn by the caller.
fn time_chart<DB: DrawingBackend>(
    area: &Area<DB>,
    caption: &str,
    years: (i32, i32),
    y_desc: &str,
    lines: &[(&Line, RGBColor)],
    sizes: Sizes,
) -> Result<(), String> {
    let all: Vec<&Line> = lines.iter().map(|(l, _)| *l).collect();
    let mut chart = year_axes(area, caption, years, y_max(&all), y_desc, sizes)?;
    for (line, colour) in lines {
        if line.sim.is_empty() {
            continue;
        }
        let upper = line.sim.iter().map(|(&y, b)| (f64::from(y), b.p95));
        let lower = line.sim.iter().rev().map(|(&y, b)| (f64::from(y), b.p05));
        let polygon: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                polygon,
                colour.mix(0.22).filled(),
            )))
            .d()?;
        chart
            .draw_series(LineSeries::new(
                line.sim.iter().map(|(&y, b)| (f64::from(y), b.p50)),
                colour.stroke_width(4),
            ))
            .d()?;
    }
    let inside = |y: &i32| (years.0..=years.1).contains(y);
    for (line, colour) in lines {
        if let Some((_, extra)) = &line.obs_extra {
            chart
                .draw_series(
                    extra
                        .iter()
                        .filter(|(y, _)| inside(y))
                        .map(|(&y, &v)| Circle::new((f64::from(y), v), 9, colour.stroke_width(3))),
                )
                .d()?;
        }
        chart
            .draw_series(
                line.obs
                    .iter()
                    .filter(|(y, _)| inside(y))
                    .map(|(&y, &v)| Circle::new((f64::from(y), v), 7, colour.filled())),
            )
            .d()?;
    }
    Ok(())
}

/// Legend entries of a line: its label, band, observed points, extra observed points.
fn line_legend(line: &Line, colour: RGBColor) -> Vec<(Swatch, String)> {
    let mut items = vec![
        (Swatch::Text, format!("{}:", line.label)),
        (
            Swatch::Band(colour),
            "simulated median, 90% band".to_string(),
        ),
        (Swatch::Points(colour), "observed".to_string()),
    ];
    if let Some((label, _)) = &line.obs_extra {
        items.push((Swatch::Hollow(colour), label.clone()));
    }
    items
}

/// Figure 1.
pub fn arrivals<DB: DrawingBackend>(data: &PlotData, root: &Area<DB>) -> Result<(), String> {
    let area = titled(root, &data.arrivals.title, data)?;
    let colours = [SIM, SIM2];
    let lines: Vec<(&Line, RGBColor)> = data.arrivals.lines.iter().zip(colours).collect();
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 65 * lines.len().max(1) as u32);
    time_chart(&body, "", data.years, "persons per year", &lines, FULL)?;
    let rows = foot.split_evenly((lines.len().max(1), 1));
    for ((line, colour), row) in lines.iter().zip(&rows) {
        footer(row, &line_legend(line, *colour))?;
    }
    Ok(())
}

/// Figure 2.
pub fn heatmap<DB: DrawingBackend>(data: &PlotData, root: &Area<DB>) -> Result<(), String> {
    let area = titled(root, "Refugees and asylum-seekers by host and year", data)?;
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
        &format!("Simulated (median of {} replicates)", data.replicates),
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

/// Figure 3.
pub fn hosts<DB: DrawingBackend>(data: &PlotData, root: &Area<DB>) -> Result<(), String> {
    let area = titled(
        root,
        "Refugee stock and asylum applications in the main hosts",
        data,
    )?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 80);
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
        time_chart(
            panel,
            &caption,
            data.years,
            "persons",
            &[(refugees, SIM), (applications, SIM2)],
            PANEL,
        )?;
    }
    let (refugees, applications) = (&data.hosts.hosts[0].1, &data.hosts.hosts[0].2);
    let mut items = vec![
        (Swatch::Band(SIM), refugees.label.clone()),
        (Swatch::Points(SIM), "observed".to_string()),
    ];
    if !applications.sim.is_empty() {
        items.push((Swatch::Band(SIM2), applications.label.clone()));
        items.push((Swatch::Points(SIM2), "observed".to_string()));
    }
    items.push((
        Swatch::Text,
        "lines: simulated median; bands: 90% of replicates".to_string(),
    ));
    footer(&foot, &items)
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
    let area = titled(root, "What the statistics do not count (simulated)", data)?;
    let h = area.dim_in_pixel().1;
    let (body, foot) = area.split_vertically(h - 80);
    let panels = body.split_evenly((1, data.unobservables.panels.len().max(1)));
    for (u, panel) in data.unobservables.panels.iter().zip(&panels) {
        let total = Line {
            label: "total".into(),
            sim: u.total.clone(),
            ..Line::default()
        };
        // Each place's median as a thin line over the total's band (at most six places).
        let mut chart = year_axes(
            panel,
            &u.title,
            data.years,
            y_max(&[&total]),
            &u.unit,
            PANEL,
        )?;
        if !u.total.is_empty() {
            let upper = u.total.iter().map(|(&y, b)| (f64::from(y), b.p95));
            let lower = u.total.iter().rev().map(|(&y, b)| (f64::from(y), b.p05));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    upper.chain(lower).collect::<Vec<_>>(),
                    SIM.mix(0.22).filled(),
                )))
                .d()?;
            chart
                .draw_series(LineSeries::new(
                    u.total.iter().map(|(&y, b)| (f64::from(y), b.p50)),
                    SIM.stroke_width(4),
                ))
                .d()?
                .label("total")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 40, y)], SIM.stroke_width(4)));
        }
        if u.by_place.len() > 1 {
            for ((place, med), colour) in u.by_place.iter().zip(PLACE_COLOURS.iter().cycle()) {
                let colour = *colour;
                chart
                    .draw_series(LineSeries::new(
                        med.iter().map(|(&y, &v)| (f64::from(y), v)),
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
        "total over places: simulated median, 90% band".to_string(),
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

/// Clears `root` to white and draws a figure's title and, under it, its subtitle, centred.
pub fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let centre = root.dim_in_pixel().0 as i32 / 2;
    let top = plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Center,
        plotters::style::text_anchor::VPos::Top,
    );
    root.draw_text(title, &font(46).pos(top), (centre, 20))
        .map_err(e)?;
    root.draw_text(subtitle, &font(30).pos(top), (centre, 80))
        .map_err(e)
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
