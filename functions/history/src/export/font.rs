//! The font the PDF and the EPUB embed: Noto Sans Regular 2.004 (SIL Open
//! Font License 1.1, the shared crate's `fonts/`), a TrueType font that covers Latin with
//! Vietnamese, Greek and Cyrillic.

use ttf_parser::{Face, GlyphId};

use super::ExportError;

/// The TrueType file.
pub(super) const FONT: &[u8] = whatif_shared::fonts::NOTO_SANS_REGULAR;
/// Its file name (inside the EPUB).
pub(super) const FILE_NAME: &str = whatif_shared::fonts::NOTO_SANS_REGULAR_FILE;
/// Its family name (CSS).
pub(super) const FAMILY: &str = "Noto Sans";
/// Its PostScript name (PDF).
pub(super) const POSTSCRIPT_NAME: &str = "NotoSans-Regular";

/// The parsed font, with metrics in thousandths of an em (PDF glyph space).
pub(super) struct Font {
    face: Face<'static>,
    scale: f32,
}

impl Font {
    pub(super) fn load() -> Result<Font, ExportError> {
        let face = Face::parse(FONT, 0).map_err(|e| ExportError::Font(e.to_string()))?;
        let units = face.units_per_em();
        if units == 0 {
            return Err(ExportError::Font("no units per em".to_string()));
        }
        Ok(Font { face, scale: 1000.0 / f32::from(units) })
    }

    pub(super) fn face(&self) -> &Face<'static> {
        &self.face
    }

    /// The glyph of a character, when the font has one.
    pub(super) fn glyph(&self, c: char) -> Option<GlyphId> {
        self.face.glyph_index(c)
    }

    /// A glyph's advance, in thousandths of an em.
    pub(super) fn advance(&self, glyph: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * self.scale
    }

    /// A font unit in thousandths of an em.
    pub(super) fn scaled(&self, units: i16) -> f32 {
        f32::from(units) * self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_covers_vietnamese_greek_and_cyrillic() -> Result<(), ExportError> {
        let font = Font::load()?;
        for c in "Điều gì xảy ra nếu Mặt Trăng biến mất? Thủy triều ỹ ự ₫ Ωμέγα Привет “” — … •".chars()
        {
            assert!(font.glyph(c).is_some(), "no glyph for {c:?}");
        }
        Ok(())
    }
}
