//! The 1200×630 preview card of a share: the image Open Graph (`og:image`) and
//! Twitter (`summary_large_image`) show with a shared link.
//!
//! A deep indigo card with a lighter accent bar along the top; the title big
//! (64 px, at most 3 lines), the summary under it (32 px, at most 4 lines), each
//! cut with "…" when longer, and a one-line footer (the product and its domain)
//! under a thin rule at the bottom.
//!
//! Drawn by hand with `ab_glyph` from the shared Noto Sans: the text is put in
//! NFC first, so a Vietnamese letter is one precomposed glyph (the font has them
//! all, and we do no shaping to place combining marks); lines are broken between
//! words by the font's advances and kerning, and a word longer than a line
//! between characters. Each glyph's coverage is blended onto an RGB buffer,
//! clipped to its text box, so nothing ever spills into the margins or the
//! footer whatever the text. A character the font lacks is drawn as the font's
//! own notdef box. The PNG is deterministic: the same card gives the same bytes
//! (within one build, as for the QR codes: see `qr`).

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, PxScaleFont, ScaleFont, point};
use whatif_shared::fonts::NOTO_SANS_REGULAR;

/// The size of the card in pixels (the size Open Graph and Twitter recommend).
/// The drawing's version: part of every card answer's `ETag`, so a new layout
/// reaches caches that revalidate.
pub const VERSION: &str = "1";

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;

/// What a card says.
#[derive(Clone, Copy, Debug)]
pub struct Card<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    /// One line at the bottom, e.g. "What If Generator · whatif.example.com".
    pub footer: &'a str,
}

/// Why no card was drawn (a fault on our side: every card draws).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the embedded font does not load")]
    Font,
    #[error("the card does not encode as PNG: {0}")]
    Png(String),
}

type Rgb = [u8; 3];

/// #1e1b4b, deep indigo.
const BACKGROUND: Rgb = [0x1e, 0x1b, 0x4b];
/// #818cf8, the bar along the top.
const ACCENT: Rgb = [0x81, 0x8c, 0xf8];
/// #3730a3, the rule above the footer.
const RULE: Rgb = [0x37, 0x30, 0xa3];
const TITLE_COLOR: Rgb = [0xff, 0xff, 0xff];
/// #c7d2fe.
const SUMMARY_COLOR: Rgb = [0xc7, 0xd2, 0xfe];
/// #a5b4fc.
const FOOTER_COLOR: Rgb = [0xa5, 0xb4, 0xfc];

/// The left and right margins; all text stays between them.
const MARGIN: u32 = 80;
const CONTENT_WIDTH: f32 = (WIDTH - 2 * MARGIN) as f32;
const ACCENT_HEIGHT: u32 = 10;
/// The top of the title's first line.
const CONTENT_TOP: f32 = 70.0;
/// Between the title and the summary.
const PARAGRAPH_GAP: f32 = 28.0;
/// The title and summary are clipped above this row.
const CONTENT_BOTTOM: u32 = 532;
/// The rule above the footer (2 px high), then the footer's line.
const FOOTER_TOP: u32 = 544;
const FOOTER_BASELINE: f32 = 596.0;

/// How a block of text is set.
struct Style {
    /// Pixels per em (the CSS font size).
    size: f32,
    line_height: f32,
    max_lines: usize,
    color: Rgb,
}

const TITLE: Style = Style { size: 64.0, line_height: 80.0, max_lines: 3, color: TITLE_COLOR };
const SUMMARY: Style = Style { size: 32.0, line_height: 46.0, max_lines: 4, color: SUMMARY_COLOR };
const FOOTER: Style = Style { size: 26.0, line_height: 26.0, max_lines: 1, color: FOOTER_COLOR };

/// Where a line's baseline sits below its top, in ems: room above for the
/// stacked marks of Vietnamese capitals (Ể, Ỗ reach about 1 em).
const BASELINE_EM: f32 = 0.95;

/// Noto Sans, parsed once.
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(NOTO_SANS_REGULAR).ok()).as_ref()
}

/// The font at `size` pixels per em (ab_glyph scales by the ascent-to-descent
/// height, which is 1.36 em in Noto Sans).
fn scaled(font: &'static FontRef<'static>, size: f32) -> PxScaleFont<&'static FontRef<'static>> {
    let units_per_em = font.units_per_em().unwrap_or(1000.0);
    font.as_scaled(PxScale::from(size * font.height_unscaled() / units_per_em))
}

/// Whether every character of `text` (in NFC, control characters aside) has a
/// glyph of its own in the font, rather than the notdef box.
pub fn covers(text: &str) -> bool {
    let Some(font) = font() else { return false };
    nfc(text).chars().filter(|c| !c.is_control()).all(|c| font.glyph_id(c).0 != 0)
}

/// The 1200×630 PNG link-preview card (Open Graph / Twitter `summary_large_image`).
pub fn render(card: &Card) -> Result<Vec<u8>, CardError> {
    let font = font().ok_or(CardError::Font)?;
    let mut canvas = Canvas::new(BACKGROUND);
    canvas.fill(0, 0, WIDTH, ACCENT_HEIGHT, ACCENT);

    let content = Clip { left: MARGIN, top: ACCENT_HEIGHT, right: WIDTH - MARGIN, bottom: CONTENT_BOTTOM };
    let mut top = CONTENT_TOP;
    for (text, style) in [(card.title, &TITLE), (card.summary, &SUMMARY)] {
        let face = scaled(font, style.size);
        let lines = wrap(&face, &clean(text), CONTENT_WIDTH, style.max_lines);
        if lines.is_empty() {
            continue;
        }
        for line in &lines {
            canvas.line(&face, line, MARGIN as f32, top + BASELINE_EM * style.size, style.color, &content);
            top += style.line_height;
        }
        top += PARAGRAPH_GAP;
    }

    canvas.fill(MARGIN, FOOTER_TOP, WIDTH - MARGIN, FOOTER_TOP + 2, RULE);
    let footer = Clip { left: MARGIN, top: FOOTER_TOP + 2, right: WIDTH - MARGIN, bottom: HEIGHT };
    let face = scaled(font, FOOTER.size);
    for line in wrap(&face, &clean(card.footer), CONTENT_WIDTH, FOOTER.max_lines) {
        canvas.line(&face, &line, MARGIN as f32, FOOTER_BASELINE, FOOTER.color, &footer);
    }
    canvas.png()
}

fn nfc(text: &str) -> std::borrow::Cow<'_, str> {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(text)
}

/// The text as it is set: NFC, every run of white space one space (a card has
/// no line breaks of its own), invisible format characters dropped.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in nfc(text).chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else if !c.is_control() && !matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}') {
            out.push(c);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// The width of a run of characters: advances plus kerning.
fn measure(face: &PxScaleFont<&FontRef>, chars: &[char]) -> f32 {
    let mut width = 0.0;
    let mut prev: Option<GlyphId> = None;
    for &c in chars {
        let id = face.glyph_id(c);
        width += prev.map_or(0.0, |p| face.kern(p, id)) + face.h_advance(id);
        prev = Some(id);
    }
    width
}

/// `text` (already cleaned) broken into lines at most `width` wide: between
/// words, and between the characters of a word wider than a line. At most
/// `max_lines`; when the text needs more, the last line ends with "…".
fn wrap(face: &PxScaleFont<&FontRef>, text: &str, width: f32, max_lines: usize) -> Vec<Vec<char>> {
    let mut lines = Lines { lines: Vec::new(), line: Vec::new(), max_lines, cut: false };
    'words: for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word: Vec<char> = word.chars().collect();
        if !lines.line.is_empty() {
            let mut joined = lines.line.clone();
            joined.push(' ');
            joined.extend_from_slice(&word);
            if measure(face, &joined) <= width {
                lines.line = joined;
                continue;
            }
            if !lines.break_line() {
                break;
            }
        }
        if measure(face, &word) <= width {
            lines.line = word;
            continue;
        }
        // Wider than a line: as many characters as fit on each.
        let mut line_width = 0.0;
        for c in word {
            let id = face.glyph_id(c);
            let kern = lines.line.last().map_or(0.0, |p| face.kern(face.glyph_id(*p), id));
            if !lines.line.is_empty() && line_width + kern + face.h_advance(id) > width {
                if !lines.break_line() {
                    break 'words;
                }
                line_width = 0.0;
            } else {
                line_width += kern;
            }
            line_width += face.h_advance(id);
            lines.line.push(c);
        }
    }
    let Lines { mut lines, line, cut, .. } = lines;
    if !cut && !line.is_empty() {
        lines.push(line);
    }
    if cut && let Some(last) = lines.last_mut() {
        // Room for the ellipsis: drop characters from the end, then the spaces before it.
        last.push('…');
        while last.len() > 1 && measure(face, last) > width {
            last.remove(last.len() - 2);
        }
        while last.len() > 1 && last[last.len() - 2] == ' ' {
            last.remove(last.len() - 2);
        }
    }
    lines
}

/// The lines `wrap` has finished and the one it is filling.
struct Lines {
    lines: Vec<Vec<char>>,
    line: Vec<char>,
    max_lines: usize,
    /// The text did not fit in `max_lines`.
    cut: bool,
}

impl Lines {
    /// Ends the current line; false when it was the last allowed (more text
    /// was waiting, so the text is cut there).
    fn break_line(&mut self) -> bool {
        self.lines.push(std::mem::take(&mut self.line));
        self.cut = self.lines.len() >= self.max_lines;
        !self.cut
    }
}

/// Where a block of text may draw: columns `left..right`, rows `top..bottom`.
struct Clip {
    left: u32,
    top: u32,
    right: u32,
    bottom: u32,
}

/// The card's pixels, RGB, row by row.
struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(color: Rgb) -> Self {
        Self { pixels: color.repeat((WIDTH * HEIGHT) as usize) }
    }

    /// Paints columns `left..right` of rows `top..bottom`.
    fn fill(&mut self, left: u32, top: u32, right: u32, bottom: u32, color: Rgb) {
        for y in top..bottom.min(HEIGHT) {
            for x in left..right.min(WIDTH) {
                let at = ((y * WIDTH + x) * 3) as usize;
                self.pixels[at..at + 3].copy_from_slice(&color);
            }
        }
    }

    /// One line of text, its baseline starting at (`x`, `baseline`), each
    /// pixel's coverage blended over what is there, nothing outside `clip`.
    fn line(&mut self, face: &PxScaleFont<&FontRef>, line: &[char], x: f32, baseline: f32, color: Rgb, clip: &Clip) {
        let mut caret = x;
        let mut prev: Option<GlyphId> = None;
        for &c in line {
            let id = face.glyph_id(c);
            caret += prev.map_or(0.0, |p| face.kern(p, id));
            let glyph = id.with_scale_and_position(face.scale(), point(caret, baseline));
            if let Some(outline) = face.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                let (left, top) = (bounds.min.x as i64, bounds.min.y as i64);
                outline.draw(|gx, gy, coverage| {
                    let (px, py) = (left + i64::from(gx), top + i64::from(gy));
                    let inside = (i64::from(clip.left)..i64::from(clip.right)).contains(&px)
                        && (i64::from(clip.top)..i64::from(clip.bottom)).contains(&py);
                    if inside {
                        self.blend(px as u32, py as u32, color, coverage);
                    }
                });
            }
            caret += face.h_advance(id);
            prev = Some(id);
        }
    }

    fn blend(&mut self, x: u32, y: u32, color: Rgb, coverage: f32) {
        let alpha = coverage.clamp(0.0, 1.0);
        let at = ((y * WIDTH + x) * 3) as usize;
        for (channel, target) in self.pixels[at..at + 3].iter_mut().zip(color) {
            let old = f32::from(*channel);
            *channel = (old + (f32::from(target) - old) * alpha).round() as u8;
        }
    }

    fn png(self) -> Result<Vec<u8>, CardError> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Balanced);
        let encoded = encoder.write_header().and_then(|mut writer| {
            writer.write_image_data(&self.pixels)?;
            writer.finish()
        });
        encoded.map_err(|e| CardError::Png(e.to_string()))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIETNAMESE: &str = "Nếu Việt Nam có tàu vũ trụ riêng thì sao?";

    fn card<'a>(title: &'a str, summary: &'a str) -> Card<'a> {
        Card { title, summary, footer: "What If Generator · whatif.example.com" }
    }

    /// The RGB pixels of a card's PNG; checks its size and format.
    fn drawn(card: &Card) -> Vec<Rgb> {
        let png = render(card).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
        buffer[..info.buffer_size()].chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect()
    }

    fn at(pixels: &[Rgb], x: u32, y: u32) -> Rgb {
        pixels[(y * WIDTH + x) as usize]
    }

    /// Pixels in columns `xs` and rows `ys` that are not the background.
    fn inked(pixels: &[Rgb], xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> usize {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y))).filter(|(x, y)| at(pixels, *x, *y) != BACKGROUND).count()
    }

    fn face(style: &Style) -> PxScaleFont<&'static FontRef<'static>> {
        scaled(font().unwrap(), style.size)
    }

    fn string(line: &[char]) -> String {
        line.iter().collect()
    }

    #[test]
    fn the_card_is_a_1200_by_630_rgb_png() {
        let pixels = drawn(&card("What if the Moon had rings?", "Tides, nights and calendars change."));
        assert_eq!(pixels.len(), (WIDTH * HEIGHT) as usize);
        assert_eq!(at(&pixels, 0, 0), ACCENT);
        assert_eq!(at(&pixels, 0, HEIGHT - 1), BACKGROUND);
        assert_eq!(at(&pixels, WIDTH / 2, FOOTER_TOP), RULE);
    }

    #[test]
    fn a_vietnamese_title_is_drawn_with_real_glyphs() {
        assert!(covers(VIETNAMESE));
        let font = font().unwrap();
        for c in VIETNAMESE.chars() {
            assert_ne!(font.glyph_id(c).0, 0, "no glyph for {c:?}");
        }
        let pixels = drawn(&card(VIETNAMESE, ""));
        // The title's lines (two at this size) are white text on indigo.
        let white = (MARGIN..WIDTH - MARGIN)
            .flat_map(|x| (CONTENT_TOP as u32..CONTENT_TOP as u32 + 2 * TITLE.line_height as u32).map(move |y| (x, y)))
            .filter(|(x, y)| at(&pixels, *x, *y) == TITLE_COLOR)
            .count();
        assert!(white > 5_000, "{white} white pixels");
        assert_eq!(wrap(&face(&TITLE), &clean(VIETNAMESE), CONTENT_WIDTH, TITLE.max_lines).len(), 2);
    }

    #[test]
    fn decomposed_text_is_set_as_precomposed_letters() {
        // "Việt" typed as e + combining dot below + combining circumflex: NFC makes it ệ.
        let decomposed = "Vie\u{0323}\u{0302}t Nam co\u{0301} ta\u{0300}u vu\u{0303} tru\u{0323}";
        assert_ne!(decomposed, "Việt Nam có tàu vũ trụ");
        assert!(covers(decomposed));
        assert_eq!(render(&card(decomposed, "")).unwrap(), render(&card("Việt Nam có tàu vũ trụ", "")).unwrap());
    }

    #[test]
    fn covers_is_false_for_characters_the_font_lacks() {
        assert!(covers("What if? Ωμέγα Привет — “quoted” … ₫"));
        assert!(!covers("What if 🚀?"));
        assert!(!covers("如果"));
        // Control characters are dropped before drawing, so they do not count.
        assert!(covers("a\tb\u{0}"));
    }

    #[test]
    fn missing_glyphs_draw_the_notdef_box_without_panicking() {
        let pixels = drawn(&card("🚀🚀🚀 如果 \u{0}\u{200B}", "\u{FFFF}\u{10FFFF}"));
        assert!(inked(&pixels, MARGIN..WIDTH - MARGIN, ACCENT_HEIGHT..CONTENT_BOTTOM) > 500);
    }

    #[test]
    fn lines_fit_the_width_and_keep_every_word() {
        let face = face(&SUMMARY);
        let text = clean(&"Thủy triều sẽ yếu đi khoảng hai phần ba, chỉ còn lại thủy triều do Mặt Trời. ".repeat(2));
        let lines = wrap(&face, &text, CONTENT_WIDTH, SUMMARY.max_lines);
        assert!(lines.len() > 1 && lines.len() <= SUMMARY.max_lines);
        for line in &lines {
            assert!(measure(&face, line) <= CONTENT_WIDTH);
        }
        assert_eq!(lines.iter().map(|l| string(l)).collect::<Vec<_>>().join(" "), text);
        assert!(!text.contains('…'));
    }

    #[test]
    fn longer_text_is_cut_with_an_ellipsis() {
        let face = face(&TITLE);
        let long = clean(&"What if every river flowed uphill for a day ".repeat(250));
        assert!(long.chars().count() > 10_000);
        let one_word = "x".repeat(500);
        for text in [long.as_str(), one_word.as_str()] {
            let lines = wrap(&face, text, CONTENT_WIDTH, TITLE.max_lines);
            assert_eq!(lines.len(), TITLE.max_lines);
            for line in &lines {
                assert!(measure(&face, line) <= CONTENT_WIDTH, "{}", string(line));
            }
            let last = string(&lines[2]);
            assert!(last.ends_with('…') && !last.ends_with(" …"), "{last}");
            assert!(!lines[..2].iter().any(|l| l.contains(&'…')));
        }
        // A word wider than the line breaks between characters, filling each line.
        let lines = wrap(&face, &one_word, CONTENT_WIDTH, TITLE.max_lines);
        assert!(measure(&face, &lines[0]) > CONTENT_WIDTH - face.h_advance(face.glyph_id('x')));
    }

    #[test]
    fn overlong_text_stays_inside_its_box() {
        let long = "Điều gì xảy ra nếu Mặt Trăng biến mất? ".repeat(260);
        assert!(long.chars().count() > 10_000);
        let word = "W".repeat(500);
        for (title, summary) in [(long.as_str(), long.as_str()), (word.as_str(), word.as_str())] {
            let pixels = drawn(&Card { title, summary, footer: "" });
            // Text was drawn, up to its box...
            assert!(inked(&pixels, MARGIN..WIDTH - MARGIN, ACCENT_HEIGHT..CONTENT_BOTTOM) > 20_000);
            // ...but never in the margins, nor below the content (only the rule is there).
            assert_eq!(inked(&pixels, 0..MARGIN, ACCENT_HEIGHT..HEIGHT), 0);
            assert_eq!(inked(&pixels, WIDTH - MARGIN..WIDTH, ACCENT_HEIGHT..HEIGHT), 0);
            assert_eq!(inked(&pixels, 0..WIDTH, CONTENT_BOTTOM..FOOTER_TOP), 0);
            assert_eq!(inked(&pixels, 0..WIDTH, FOOTER_TOP + 2..HEIGHT), 0);
        }
    }

    #[test]
    fn an_empty_card_is_the_background_the_bar_and_the_footer() {
        let pixels = drawn(&card("", ""));
        assert_eq!(inked(&pixels, 0..WIDTH, ACCENT_HEIGHT..FOOTER_TOP), 0);
        assert!(inked(&pixels, MARGIN..WIDTH - MARGIN, FOOTER_TOP + 2..HEIGHT) > 1_000);
        // White space alone is no text either; without a footer only the rule is left.
        let blank = drawn(&Card { title: " \n\t ", summary: "\u{200B}", footer: "" });
        assert_eq!(inked(&blank, 0..WIDTH, ACCENT_HEIGHT..HEIGHT), (WIDTH - 2 * MARGIN) as usize * 2);
    }

    #[test]
    fn the_same_card_gives_the_same_bytes() {
        let card = card(VIETNAMESE, "Một chương trình không gian của riêng mình sẽ thay đổi điều gì?");
        let first = render(&card).unwrap();
        assert_eq!(first, render(&card).unwrap());
        assert_ne!(first, render(&Card { title: "Nếu", ..card }).unwrap());
    }
}
