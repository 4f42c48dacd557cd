//! PDF: A4 pages with the title, the topic, the summary, each section's heading
//! and paragraphs, the choices and the facts; word-wrapped with the font's own
//! advances and broken across as many pages as the text needs, page numbers at
//! the foot and a bookmark per section.
//!
//! The text is Noto Sans, embedded as a subset: a Type0 font over a
//! CIDFontType2 (Identity-H, CIDs = glyph ids of the subset) with a ToUnicode
//! CMap, so Vietnamese, Greek and Cyrillic both show and copy out as written.
//!
//! Why this stack (`pdf-writer` + `subsetter` + `ttf-parser`, plus `flate2`, already
//! in the tree through `zip`) rather than a higher-level crate:
//! - `printpdf` 0.7 embeds the whole font (about 290 KB per file once deflated) and
//!   0.8 brings its own HTML/CSS layout and `allsorts`, a long build for a page of text;
//! - `genpdf` sits on an old `printpdf`/`rusttype` and is barely maintained;
//! - `krilla` is excellent (it is what Typst uses) but brings ~100 crates (skrifa,
//!   rustybuzz, tiny-skia-path, ...) for shaping we do not need: Vietnamese in NFC
//!   is precomposed, one glyph per character, with no ligatures or mark placement.
//!
//! `pdf-writer` (Typst's low-level writer: 4 tiny dependencies) writes correct
//! objects and escapes; `subsetter` (also Typst's, 1 dependency) makes the subset
//! that brings a short scenario to ~20 KB; `ttf-parser` (no dependencies) gives
//! the glyph ids and advances the line breaking measures with. Layout, which any
//! of those crates would have left to us too, is the little greedy wrapper below.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::types::{CidFontType, FontFlags, PageMode, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use ttf_parser::GlyphId;

use super::font::{self, Font};
use super::{Document, ExportError, NEXT_HEADING, text::unmark, utc};

/// A4 in points.
const PAGE_WIDTH: f32 = 595.276;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 64.0;
const MARGIN_TOP: f32 = 70.0;
const MARGIN_BOTTOM: f32 = 72.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
/// The baseline of the page numbers.
const FOOTER_BASELINE: f32 = 40.0;
/// How far list items are indented (the bullet hangs in it).
const LIST_INDENT: f32 = 16.0;

/// How a run of text looks.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    size: f32,
    leading: f32,
    /// 0 is black.
    gray: f32,
    /// Drawn filled and stroked (the font has one weight).
    bold: bool,
    /// Slanted by the text matrix (the font has one style).
    oblique: bool,
}

const TITLE: Style = Style { size: 22.0, leading: 28.0, gray: 0.05, bold: true, oblique: false };
const TOPIC: Style = Style { size: 11.5, leading: 16.0, gray: 0.35, bold: false, oblique: true };
const SUMMARY: Style = Style { size: 12.0, leading: 18.0, gray: 0.12, bold: false, oblique: false };
const HEADING: Style = Style { size: 15.0, leading: 20.0, gray: 0.05, bold: true, oblique: false };
const BODY: Style = Style { size: 11.0, leading: 16.5, gray: 0.1, bold: false, oblique: false };
const FACTS: Style = Style { size: 8.5, leading: 12.0, gray: 0.4, bold: false, oblique: false };

/// The font resource name in every page.
const FONT_NAME: Name = Name(b"F1");

pub(super) fn render(doc: &Document) -> Result<Vec<u8>, ExportError> {
    let font = Font::load()?;
    let mut layout = Layout::new(&font);
    layout.document(doc);
    let Layout { mut pages, marks, .. } = layout;
    number_pages(&font, &mut pages);
    write(doc, &font, &pages, &marks)
}

/// A line of text placed on a page.
#[derive(Debug)]
struct Line {
    x: f32,
    baseline: f32,
    style: Style,
    glyphs: Vec<(GlyphId, char)>,
}

/// A horizontal rule.
#[derive(Debug)]
struct Rule {
    x1: f32,
    x2: f32,
    y: f32,
}

#[derive(Debug, Default)]
struct Page {
    lines: Vec<Line>,
    rules: Vec<Rule>,
}

/// A bookmark: a heading and where it starts.
#[derive(Debug)]
struct Mark {
    title: String,
    page: usize,
    top: f32,
}

/// Places the text top to bottom, opening a page when one is full.
struct Layout<'f> {
    font: &'f Font,
    ascent: f32,
    descent: f32,
    pages: Vec<Page>,
    /// The top of the free space on the last page.
    y: f32,
    marks: Vec<Mark>,
}

impl<'f> Layout<'f> {
    fn new(font: &'f Font) -> Self {
        let face = font.face();
        Layout {
            font,
            ascent: font.scaled(face.ascender()) / 1000.0,
            descent: -font.scaled(face.descender()) / 1000.0,
            pages: vec![Page::default()],
            y: PAGE_HEIGHT - MARGIN_TOP,
            marks: Vec::new(),
        }
    }

    fn document(&mut self, doc: &Document) {
        self.paragraph(&nfc(&doc.title), TITLE, 0.0, None);
        if !doc.topic.is_empty() {
            self.space(4.0);
            self.paragraph(&nfc(&doc.topic), TOPIC, 0.0, None);
        }
        if !doc.summary.is_empty() {
            self.space(10.0);
            for (i, p) in doc.summary.iter().enumerate() {
                if i > 0 {
                    self.space(6.0);
                }
                self.paragraph(&nfc(&unmark(p)), SUMMARY, 0.0, None);
            }
        }
        self.space(14.0);
        self.rule();
        self.space(6.0);
        for section in &doc.sections {
            if !section.heading.is_empty() {
                self.heading(&nfc(&unmark(&section.heading)));
            } else {
                self.space(10.0);
            }
            for (i, p) in section.paragraphs.iter().enumerate() {
                if i > 0 {
                    self.space(7.0);
                }
                self.paragraph(&nfc(&unmark(p)), BODY, 0.0, None);
            }
        }
        if !doc.choices.is_empty() {
            self.heading(NEXT_HEADING);
            for (i, choice) in doc.choices.iter().enumerate() {
                if i > 0 {
                    self.space(5.0);
                }
                self.paragraph(&nfc(&unmark(choice)), BODY, LIST_INDENT, Some("•"));
            }
        }
        self.space(22.0);
        self.keep(FACTS.leading * 2.0 + 8.0);
        self.rule();
        self.space(8.0);
        self.paragraph(&nfc(&doc.facts_line()), FACTS, 0.0, None);
    }

    /// A section heading, kept with the first lines after it, and its bookmark.
    fn heading(&mut self, text: &str) {
        self.space(14.0);
        let lines = self.wrap(text, HEADING.size, CONTENT_WIDTH);
        self.keep(HEADING.leading * lines.len() as f32 + 5.0 + 2.0 * BODY.leading);
        self.marks.push(Mark { title: text.to_string(), page: self.pages.len().saturating_sub(1), top: self.y + 6.0 });
        self.place(lines, HEADING, 0.0, None, None);
        self.space(5.0);
    }

    /// A paragraph: wrapped, its first two lines kept together, and its last
    /// line never alone at the top of a page.
    fn paragraph(&mut self, text: &str, style: Style, indent: f32, bullet: Option<&str>) {
        let lines = self.wrap(text, style.size, CONTENT_WIDTH - indent);
        self.keep(style.leading * lines.len().min(2) as f32);
        let fit = ((self.y - MARGIN_BOTTOM) / style.leading).floor().max(0.0) as usize;
        let widow_break = (fit + 1 == lines.len() && fit >= 3).then(|| fit - 1);
        self.place(lines, style, indent, bullet, widow_break);
    }

    /// Lines one under the other, a new page when the next does not fit (or at `break_before`).
    fn place(
        &mut self,
        lines: Vec<Vec<(GlyphId, char)>>,
        style: Style,
        indent: f32,
        bullet: Option<&str>,
        break_before: Option<usize>,
    ) {
        for (i, glyphs) in lines.into_iter().enumerate() {
            if self.y - style.leading < MARGIN_BOTTOM || break_before == Some(i) {
                self.new_page();
            }
            let baseline =
                self.y - (style.leading - style.size * (self.ascent + self.descent)) / 2.0 - style.size * self.ascent;
            let bullet_glyphs = bullet.filter(|_| i == 0).map(|b| self.glyphs(b));
            if let Some(page) = self.pages.last_mut() {
                if let Some(glyphs) = bullet_glyphs {
                    page.lines.push(Line { x: MARGIN_X + indent / 4.0, baseline, style, glyphs });
                }
                page.lines.push(Line { x: MARGIN_X + indent, baseline, style, glyphs });
            }
            self.y -= style.leading;
        }
    }

    /// Space between blocks (none at the top of a page).
    fn space(&mut self, points: f32) {
        if self.y < PAGE_HEIGHT - MARGIN_TOP {
            self.y -= points;
        }
    }

    /// A new page unless `height` fits on this one.
    fn keep(&mut self, height: f32) {
        if self.y - height < MARGIN_BOTTOM && self.y < PAGE_HEIGHT - MARGIN_TOP {
            self.new_page();
        }
    }

    fn rule(&mut self) {
        if self.y - 1.0 < MARGIN_BOTTOM {
            self.new_page();
        }
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.rules.push(Rule { x1: MARGIN_X, x2: PAGE_WIDTH - MARGIN_X, y });
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = PAGE_HEIGHT - MARGIN_TOP;
    }

    /// The glyphs of a text: characters the font lacks show as `?`; soft
    /// hyphens and zero-width characters are left out.
    fn glyphs(&self, text: &str) -> Vec<(GlyphId, char)> {
        glyphs(self.font, text)
    }

    /// The width of glyphs at a size, in points.
    fn width(&self, glyphs: &[(GlyphId, char)], size: f32) -> f32 {
        glyphs.iter().map(|(g, _)| self.font.advance(*g)).sum::<f32>() * size / 1000.0
    }

    /// Lines of at most `width` points: each line of the text, broken greedily
    /// between words; a word wider than a line is broken between characters.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<Vec<(GlyphId, char)>> {
        let space = self.glyphs(" ");
        let space_width = self.width(&space, size);
        let mut lines = Vec::new();
        for hard_line in text.lines() {
            let mut line: Vec<(GlyphId, char)> = Vec::new();
            let mut line_width = 0.0;
            for word in hard_line.split(' ').filter(|w| !w.is_empty()) {
                let word = self.glyphs(word);
                let word_width = self.width(&word, size);
                if !line.is_empty() && line_width + space_width + word_width <= width {
                    line.extend_from_slice(&space);
                    line.extend(word);
                    line_width += space_width + word_width;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                line_width = 0.0;
                for glyph in word {
                    let w = self.width(&[glyph], size);
                    if !line.is_empty() && line_width + w > width {
                        lines.push(std::mem::take(&mut line));
                        line_width = 0.0;
                    }
                    line.push(glyph);
                    line_width += w;
                }
            }
            if !line.is_empty() {
                lines.push(line);
            }
        }
        lines
    }
}

fn glyphs(font: &Font, text: &str) -> Vec<(GlyphId, char)> {
    text.chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}'))
        .map(|c| match font.glyph(c) {
            Some(g) => (g, c),
            None => (font.glyph('?').unwrap_or(GlyphId(0)), '?'),
        })
        .collect()
}

/// Text in NFC: Vietnamese as precomposed letters, one glyph each.
fn nfc(text: &str) -> String {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(text).into_owned()
}

/// `n / N` centred at the foot of every page.
fn number_pages(font: &Font, pages: &mut [Page]) {
    let count = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        let glyphs = glyphs(font, &format!("{} / {count}", i + 1));
        let width = glyphs.iter().map(|(g, _)| font.advance(*g)).sum::<f32>() * FACTS.size / 1000.0;
        page.lines.push(Line { x: (PAGE_WIDTH - width) / 2.0, baseline: FOOTER_BASELINE, style: FACTS, glyphs });
    }
}

/// The PDF objects: catalog, page tree, pages and their content, the font
/// (Type0, CIDFontType2, descriptor, subset, ToUnicode), bookmarks and the
/// document information.
fn write(doc: &Document, font: &Font, pages: &[Page], marks: &[Mark]) -> Result<Vec<u8>, ExportError> {
    // The subset: every glyph the pages show, numbered in order of first use.
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut unicode: BTreeMap<u16, char> = BTreeMap::new();
    for line in pages.iter().flat_map(|p| &p.lines) {
        for (glyph, c) in &line.glyphs {
            let cid = remapper.remap(glyph.0);
            unicode.entry(cid).or_insert(*c);
        }
    }
    let subset =
        subsetter::subset(font::FONT, 0, &remapper).map_err(|e| ExportError::Font(format!("subsetting: {e}")))?;
    let base_font = format!("{}+{}", subset_tag(&remapper), font::POSTSCRIPT_NAME);

    let mut next = Ref::new(1);
    let catalog_id = next.bump();
    let pages_id = next.bump();
    let type0_id = next.bump();
    let cid_font_id = next.bump();
    let descriptor_id = next.bump();
    let font_file_id = next.bump();
    let cmap_id = next.bump();
    let info_id = next.bump();
    let outline_id = next.bump();
    let page_ids: Vec<Ref> = pages.iter().map(|_| next.bump()).collect();
    let content_ids: Vec<Ref> = pages.iter().map(|_| next.bump()).collect();
    let mark_ids: Vec<Ref> = marks.iter().map(|_| next.bump()).collect();

    let mut pdf = Pdf::new();
    let mut catalog = pdf.catalog(catalog_id);
    catalog.pages(pages_id).lang(TextStr(doc.scenario.language.as_str()));
    catalog.viewer_preferences().display_doc_title(true);
    if !marks.is_empty() {
        catalog.outlines(outline_id).page_mode(PageMode::UseOutlines);
    }
    catalog.finish();
    pdf.pages(pages_id).kids(page_ids.iter().copied()).count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));

    for ((page, &page_id), &content_id) in pages.iter().zip(&page_ids).zip(&content_ids) {
        let mut pdf_page = pdf.page(page_id);
        pdf_page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT)).parent(pages_id).contents(content_id);
        pdf_page.resources().fonts().pair(FONT_NAME, type0_id);
        pdf_page.finish();
        let content = deflate(&page_content(page, &remapper))?;
        pdf.stream(content_id, &content).filter(Filter::FlateDecode);
    }

    // The font: a Type0 font over one CIDFontType2, glyphs addressed by CID = subset glyph id.
    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    pdf.type0_font(type0_id)
        .base_font(Name(base_font.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font_id)
        .to_unicode(cmap_id);
    let widths: Vec<f32> = remapper.remapped_gids().map(|g| font.advance(GlyphId(g)).round()).collect();
    let mut cid_font = pdf.cid_font(cid_font_id);
    cid_font
        .subtype(CidFontType::Type2)
        .base_font(Name(base_font.as_bytes()))
        .system_info(system_info)
        .font_descriptor(descriptor_id)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid_font.widths().consecutive(0, widths);
    cid_font.finish();

    let face = font.face();
    let bbox = face.global_bounding_box();
    let cap_height = face.capital_height().unwrap_or(face.ascender());
    pdf.font_descriptor(descriptor_id)
        .name(Name(base_font.as_bytes()))
        .family(Str(font::FAMILY.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            font.scaled(bbox.x_min),
            font.scaled(bbox.y_min),
            font.scaled(bbox.x_max),
            font.scaled(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(font.scaled(face.ascender()))
        .descent(font.scaled(face.descender()))
        .cap_height(font.scaled(cap_height))
        .stem_v(80.0)
        .font_file2(font_file_id);
    let font_file = deflate(&subset)?;
    pdf.stream(font_file_id, &font_file)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), i32::try_from(subset.len()).unwrap_or(i32::MAX));

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (&cid, &c) in &unicode {
        cmap.pair(cid, c);
    }
    let cmap = deflate(&cmap.finish())?;
    pdf.stream(cmap_id, &cmap).filter(Filter::FlateDecode);

    // Bookmarks: one per section heading.
    if let (Some(&first), Some(&last)) = (mark_ids.first(), mark_ids.last()) {
        pdf.outline(outline_id).first(first).last(last).count(i32::try_from(mark_ids.len()).unwrap_or(i32::MAX));
        for (i, (mark, &id)) in marks.iter().zip(&mark_ids).enumerate() {
            let mut item = pdf.outline_item(id);
            item.title(TextStr(&mark.title)).parent(outline_id);
            if let Some(&prev) = i.checked_sub(1).and_then(|p| mark_ids.get(p)) {
                item.prev(prev);
            }
            if let Some(&next) = mark_ids.get(i + 1) {
                item.next(next);
            }
            if let Some(&page) = page_ids.get(mark.page) {
                item.dest().page(page).xyz(0.0, mark.top.min(PAGE_HEIGHT), None);
            }
        }
    }

    let mut info = pdf.document_info(info_id);
    info.title(TextStr(&doc.title)).creator(TextStr("What If Generator")).producer(TextStr("whatif-history"));
    if !doc.topic.is_empty() {
        info.subject(TextStr(&doc.topic));
    }
    if !doc.scenario.tags.is_empty() {
        info.keywords(TextStr(&doc.scenario.tags.join(", ")));
    }
    if let Some(created) = pdf_date(&doc.scenario.created_at) {
        info.creation_date(created);
    }
    if let Some(modified) = pdf_date(&doc.scenario.updated_at) {
        info.modified_date(modified);
    }
    info.finish();

    Ok(pdf.finish())
}

/// The content stream of a page: its lines, then its rules.
fn page_content(page: &Page, remapper: &subsetter::GlyphRemapper) -> Vec<u8> {
    let mut content = Content::new();
    content.begin_text();
    let mut current: Option<Style> = None;
    for line in &page.lines {
        if current.is_none_or(|s| s.size != line.style.size) {
            content.set_font(FONT_NAME, line.style.size);
        }
        if current.is_none_or(|s| s.gray != line.style.gray) {
            content.set_fill_gray(line.style.gray);
            content.set_stroke_gray(line.style.gray);
        }
        if current.is_none_or(|s| s.bold != line.style.bold || s.size != line.style.size) {
            if line.style.bold {
                content.set_text_rendering_mode(TextRenderingMode::FillStroke);
                content.set_line_width(line.style.size * 0.03);
            } else {
                content.set_text_rendering_mode(TextRenderingMode::Fill);
            }
        }
        current = Some(line.style);
        let skew = if line.style.oblique { 0.2 } else { 0.0 };
        content.set_text_matrix([1.0, 0.0, skew, 1.0, line.x, line.baseline]);
        let bytes: Vec<u8> =
            line.glyphs.iter().flat_map(|(g, _)| remapper.get(g.0).unwrap_or(0).to_be_bytes()).collect();
        content.show(Str(&bytes));
    }
    content.end_text();
    if !page.rules.is_empty() {
        content.set_stroke_gray(0.75).set_line_width(0.6);
        for rule in &page.rules {
            content.move_to(rule.x1, rule.y).line_to(rule.x2, rule.y);
        }
        content.stroke();
    }
    content.finish().into_vec()
}

/// The six capital letters that name a subset (PDF 32000-1, 9.6.4), from the glyphs in it.
fn subset_tag(remapper: &subsetter::GlyphRemapper) -> String {
    // FNV-1a over the glyph ids: the same subset gets the same tag.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for g in remapper.remapped_gids() {
        for b in g.to_be_bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| {
            let letter = ((hash >> (i * 5)) % 26) as u8;
            char::from(b'A' + letter)
        })
        .collect()
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, ExportError> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 2), Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

fn pdf_date(rfc3339: &str) -> Option<Date> {
    let t = utc(rfc3339)?;
    let year = u16::try_from(t.year()).ok()?;
    Some(
        Date::new(year)
            .month(u8::from(t.month()))
            .day(t.day())
            .hour(t.hour())
            .minute(t.minute())
            .second(t.second())
            .utc_offset_hour(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &[(GlyphId, char)]) -> String {
        line.iter().map(|(_, c)| c).collect()
    }

    #[test]
    fn wrapping_keeps_within_the_width_and_every_character() -> Result<(), ExportError> {
        let font = Font::load()?;
        let layout = Layout::new(&font);
        let source = "Điều gì xảy ra nếu Mặt Trăng biến mất? Thủy triều sẽ yếu đi rất nhiều. ".repeat(6);
        let lines = layout.wrap(source.trim(), BODY.size, 200.0);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(layout.width(line, BODY.size) <= 200.0);
        }
        let joined = lines.iter().map(|l| text(l)).collect::<Vec<_>>().join(" ");
        assert_eq!(joined, source.trim());
        Ok(())
    }

    #[test]
    fn a_word_wider_than_a_line_breaks_between_characters() -> Result<(), ExportError> {
        let font = Font::load()?;
        let layout = Layout::new(&font);
        let word = "x".repeat(200);
        let lines = layout.wrap(&format!("a {word} b"), BODY.size, 100.0);
        assert!(lines.len() > 3);
        assert_eq!(text(&lines[0]), "a");
        assert_eq!(lines.iter().map(|l| text(l)).collect::<String>(), format!("a{word} b"));
        Ok(())
    }

    #[test]
    fn a_paragraph_leaves_no_line_alone() -> Result<(), ExportError> {
        let font = Font::load()?;
        let text = "Thủy triều sẽ yếu đi khoảng hai phần ba, chỉ còn lại thủy triều do Mặt Trời gây ra. ".repeat(6);
        let lines = Layout::new(&font).wrap(text.trim(), BODY.size, CONTENT_WIDTH).len();
        assert!(lines >= 5, "{lines} lines");
        for room in 1..=lines + 1 {
            let mut layout = Layout::new(&font);
            // Room for `room` lines (and a little) left on the first page.
            layout.y = MARGIN_BOTTOM + BODY.leading * room as f32 + 1.0;
            layout.pages[0].lines.push(Line { x: 0.0, baseline: 0.0, style: BODY, glyphs: Vec::new() });
            layout.paragraph(text.trim(), BODY, 0.0, None);
            let counts: Vec<usize> = layout.pages.iter().map(|p| p.lines.len()).collect();
            let (first, rest) = (counts[0] - 1, counts[1..].iter().sum::<usize>());
            assert_eq!(first + rest, lines);
            assert!(first == 0 || first >= 2, "room {room}: {counts:?}");
            assert!(rest == 0 || rest >= 2, "room {room}: {counts:?}");
        }
        Ok(())
    }

    #[test]
    fn missing_glyphs_show_as_question_marks() -> Result<(), ExportError> {
        let font = Font::load()?;
        assert_eq!(text(&glyphs(&font, "a\u{00AD}b字")), "ab?");
        Ok(())
    }

    #[test]
    fn decomposed_text_is_composed() {
        assert_eq!(nfc("Đie\u{0302}\u{0300}u"), "Điều");
    }
}
