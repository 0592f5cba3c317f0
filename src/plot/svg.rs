//! SVG figures whose text is drawn as glyph outlines: every string becomes one `<path>` traced
//! from the embedded font (module `font`), so an SVG names no font and looks the same in any
//! viewer, editor or converter, installed fonts or not. The string itself stays in the path's
//! `aria-label`, for screen readers and for searching the file.
//!
//! [`PathText`] wraps plotters' SVG backend: lines, rectangles, circles and polygons go to it
//! unchanged; each text is handed to it as a numbered placeholder, and [`PathText::finish`]
//! replaces every placeholder element by the outlines. Text is laid out as plotters lays it out
//! for PNG (the same advances, kerning, anchors and rotations, the baseline half the font size
//! below a top anchor), so a figure's SVG and PNG put every word in the same place.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use ab_glyph::{Font, FontRef, OutlineCurve, ScaleFont};
use plotters::prelude::SVGBackend;
use plotters_backend::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontTransform,
};

/// Starts a placeholder's text: a private-use character no label contains.
const MARK: char = '\u{E000}';

/// The finished `<path>` elements of the texts drawn, in order; shared between the backend and
/// whoever finishes the SVG.
pub type Texts = Rc<RefCell<Vec<String>>>;

/// Plotters' SVG backend with text as outlines.
pub struct PathText<'a> {
    inner: SVGBackend<'a>,
    font: FontRef<'static>,
    texts: Texts,
}

impl<'a> PathText<'a> {
    /// Wraps `inner`; the outlines of its texts are collected in `texts` for [`Self::finish`].
    pub fn new(inner: SVGBackend<'a>, font: FontRef<'static>, texts: Texts) -> PathText<'a> {
        PathText { inner, font, texts }
    }

    /// The SVG written by the inner backend with every placeholder replaced by its outlines;
    /// an error if a placeholder is missing or unknown (plotters wrote text another way).
    pub fn finish(svg: &str, texts: &[String]) -> Result<String, String> {
        let mut out =
            String::with_capacity(svg.len() + texts.iter().map(String::len).sum::<usize>());
        let mut rest = svg;
        let mut used = 0;
        while let Some(start) = rest.find("<text") {
            out.push_str(&rest[..start]);
            let element = &rest[start..];
            let end = element
                .find("</text>")
                .ok_or("an SVG <text> element is not closed")?;
            let open = element.find('>').ok_or("an SVG <text> tag is not closed")?;
            let index = element[open + 1..end]
                .trim()
                .strip_prefix(MARK)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&i| i == used)
                .ok_or("an SVG <text> element is not a placeholder of this figure")?;
            out.push_str(&texts[index]);
            used += 1;
            rest = &element[end + "</text>".len()..];
            rest = rest.strip_prefix('\n').unwrap_or(rest);
        }
        out.push_str(rest);
        if used != texts.len() {
            return Err(format!(
                "{} texts drawn, {used} placed in the SVG",
                texts.len()
            ));
        }
        Ok(out)
    }
}

/// `#RRGGBB`, as plotters writes colours.
fn colour(c: BackendColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.rgb.0, c.rgb.1, c.rgb.2)
}

/// XML-escaped text for an attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate to a tenth of a pixel, without a trailing `.0`.
fn number(out: &mut String, v: f32) {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        let _ = write!(out, "{}", r as i64);
    } else {
        let _ = write!(out, "{r:.1}");
    }
}

/// Where a text's lines start relative to its anchor, and how wide and high plotters takes it
/// to be: the same numbers plotters' own text layout uses for PNG (integer pixels).
fn offsets(width: f32, size: f64, anchor: Pos) -> (f32, f32) {
    let (w, h) = (width as i32, (size / 1.24) as i32);
    let dx = match anchor.h_pos {
        HPos::Left => 0,
        HPos::Right => -w,
        HPos::Center => -w / 2,
    };
    let dy = match anchor.v_pos {
        VPos::Top => 0,
        VPos::Center => -h / 2,
        VPos::Bottom => -h,
    };
    (dx as f32, dy as f32)
}

/// `(x, y)` turned as plotters turns rotated text, about the anchor.
fn turn(t: &FontTransform, (x, y): (f32, f32)) -> (f32, f32) {
    match t {
        FontTransform::None => (x, y),
        FontTransform::Rotate90 => (-y, x),
        FontTransform::Rotate180 => (-x, -y),
        FontTransform::Rotate270 => (y, -x),
    }
}

/// The outlines of `text` at `size` pixels, anchored at `pos`, as SVG path data (empty for
/// text without visible glyphs).
pub fn outlines(
    font: &FontRef<'_>,
    text: &str,
    size: f64,
    anchor: Pos,
    transform: FontTransform,
    pos: BackendCoord,
) -> String {
    let scaled = font.as_scaled(size as f32);
    let ids: Vec<_> = text.chars().map(|c| font.glyph_id(c)).collect();
    let width: f32 = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            scaled.h_advance(id) + i.checked_sub(1).map_or(0.0, |p| scaled.kern(ids[p], id))
        })
        .sum();
    let (dx, dy) = offsets(width, size, anchor);
    let baseline = dy + size as f32 / 2.0;
    let factor = scaled.scale_factor();
    let mut d = String::new();
    let mut pen = dx;
    let mut at: Option<(f32, f32)> = None;
    for (i, &id) in ids.iter().enumerate() {
        if i > 0 {
            pen += scaled.kern(ids[i - 1], id);
        }
        let place = |p: ab_glyph::Point| {
            let local = (
                pen + p.x * factor.horizontal,
                baseline - p.y * factor.vertical,
            );
            let (x, y) = turn(&transform, local);
            (x + pos.0 as f32, y + pos.1 as f32)
        };
        let point = |d: &mut String, command: char, p: ab_glyph::Point| {
            let (x, y) = place(p);
            d.push(command);
            number(d, x);
            d.push(' ');
            number(d, y);
            (x, y)
        };
        for curve in font.outline(id).map(|o| o.curves).unwrap_or_default() {
            let (start, end) = match curve {
                OutlineCurve::Line(a, b) => (a, b),
                OutlineCurve::Quad(a, _, b) => (a, b),
                OutlineCurve::Cubic(a, _, _, b) => (a, b),
            };
            if at != Some(place(start)) {
                if at.is_some() {
                    d.push('Z');
                }
                point(&mut d, 'M', start);
            }
            at = Some(match curve {
                OutlineCurve::Line(_, b) => point(&mut d, 'L', b),
                OutlineCurve::Quad(_, c, b) => {
                    point(&mut d, 'Q', c);
                    point(&mut d, ' ', b)
                }
                OutlineCurve::Cubic(_, c1, c2, b) => {
                    point(&mut d, 'C', c1);
                    point(&mut d, ' ', c2);
                    point(&mut d, ' ', b)
                }
            });
            debug_assert_eq!(at, Some(place(end)));
        }
        pen += scaled.h_advance(id);
    }
    if at.is_some() {
        d.push('Z');
    }
    d
}

impl<'a> DrawingBackend for PathText<'a> {
    type ErrorType = <SVGBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let c = style.color();
        if c.alpha == 0.0 {
            return Ok(());
        }
        let d = outlines(
            &self.font,
            text,
            style.size(),
            style.anchor(),
            style.transform(),
            pos,
        );
        let mut element = format!(
            "<path role=\"img\" aria-label=\"{}\" fill=\"{}\"",
            escape(text),
            colour(c)
        );
        if c.alpha < 1.0 {
            let _ = write!(element, " fill-opacity=\"{:.3}\"", c.alpha);
        }
        let _ = writeln!(element, " d=\"{d}\"/>");
        let mut texts = self.texts.borrow_mut();
        let mark = format!("{MARK}{}", texts.len());
        texts.push(element);
        self.inner.draw_text(&mark, style, pos)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> FontRef<'static> {
        FontRef::try_from_slice(super::super::font::DEJAVU_SANS).unwrap()
    }

    /// The x and y extent of the coordinates of path data.
    fn extent(d: &str) -> ((f32, f32), (f32, f32)) {
        let numbers: Vec<f32> = d
            .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let xs = numbers.iter().step_by(2).copied();
        let ys = numbers.iter().skip(1).step_by(2).copied();
        let span = |v: Vec<f32>| {
            (
                v.iter().copied().fold(f32::MAX, f32::min),
                v.iter().copied().fold(f32::MIN, f32::max),
            )
        };
        (span(xs.collect()), span(ys.collect()))
    }

    #[test]
    fn a_capital_sits_on_the_baseline_and_centred_text_straddles_its_anchor() {
        let font = font();
        let top_left = Pos::new(HPos::Left, VPos::Top);
        // "H" of DejaVu Sans: 1493 units high of the 2384 between ascent and descent, on the
        // baseline, which plotters puts half the size below a top anchor.
        let d = outlines(&font, "H", 100.0, top_left, FontTransform::None, (0, 0));
        let ((x0, x1), (y0, y1)) = extent(&d);
        assert!((y1 - 50.0).abs() < 0.06, "baseline at 50: {y1}");
        assert!(
            (y1 - y0 - 1493.0 / 2384.0 * 100.0).abs() < 0.2,
            "cap height: {y0}"
        );
        assert!(x0 > 0.0 && x1 < 80.0, "{x0}..{x1}");
        assert_eq!(d.matches('M').count(), 1, "H is one contour");
        assert_eq!(
            outlines(&font, "o", 100.0, top_left, FontTransform::None, (0, 0))
                .matches('M')
                .count(),
            2,
            "o has a hole"
        );
        let centre = Pos::new(HPos::Center, VPos::Top);
        let d = outlines(&font, "HH", 100.0, centre, FontTransform::None, (500, 0));
        let ((x0, x1), _) = extent(&d);
        assert!((500.0 - x0 - (x1 - 500.0)).abs() < 2.0, "{x0}..{x1}");
        assert!(outlines(&font, " ", 30.0, centre, FontTransform::None, (0, 0)).is_empty());
    }

    #[test]
    fn rotated_text_runs_upwards_from_its_anchor() {
        let font = font();
        let left = Pos::new(HPos::Left, VPos::Top);
        let flat = outlines(&font, "HHHH", 40.0, left, FontTransform::None, (100, 300));
        let up = outlines(
            &font,
            "HHHH",
            40.0,
            left,
            FontTransform::Rotate270,
            (100, 300),
        );
        let ((fx0, fx1), _) = extent(&flat);
        let ((ux0, ux1), (uy0, uy1)) = extent(&up);
        assert!(
            uy1 <= 300.5 && uy0 < 300.0 - (fx1 - fx0) + 2.0,
            "{uy0}..{uy1}"
        );
        // The baseline, half the size below the anchor before turning, is 20 px right of it.
        assert!((ux1 - 120.0).abs() < 0.06, "{ux0}..{ux1}");
        assert!(
            (ux1 - ux0 - 1493.0 / 2384.0 * 40.0).abs() < 0.2,
            "{ux0}..{ux1}"
        );
    }

    #[test]
    fn placeholders_are_replaced_in_order_and_strays_refused() {
        let texts = vec!["<path a/>\n".to_string(), "<path b/>\n".to_string()];
        let svg = format!(
            "<svg>\n<text x=\"1\">\n{MARK}0\n</text>\n<rect/>\n<text>\n{MARK}1\n</text>\n</svg>\n"
        );
        assert_eq!(
            PathText::finish(&svg, &texts).unwrap(),
            "<svg>\n<path a/>\n<rect/>\n<path b/>\n</svg>\n"
        );
        assert!(PathText::finish("<svg><text>label</text></svg>", &[]).is_err());
        assert!(PathText::finish("<svg></svg>", &texts).is_err(), "unplaced");
    }
}
