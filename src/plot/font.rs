//! The one font every figure uses, embedded in the binary: figures render the same on a
//! machine with no fonts installed, and no system font is ever looked up.

use std::sync::OnceLock;

use plotters::style::{FontStyle, IntoFont, TextStyle, register_font};

/// DejaVu Sans 2.37 (Bitstream Vera licence; `assets/fonts/`).
pub(super) static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The family name figures ask for.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font as [`FAMILY`] once; `false` if it could not be parsed.
pub fn ensure() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok())
}

/// The embedded font's outlines (for SVG text drawn as paths); `None` if it could not be parsed.
pub fn face() -> Option<ab_glyph::FontRef<'static>> {
    ab_glyph::FontRef::try_from_slice(DEJAVU_SANS).ok()
}

/// The embedded family at `size` pixels: the text style of every figure.
pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}
