//! The export renderers: every format renders a real file a person (and a
//! reader program) can open, with the scenario's text intact.

use std::io::{Cursor, Read};

use pdf_extract::{Document as PdfDocument, Object};
use whatif_history::export::{self, Format};
use whatif_shared::scenarios::Scenario;
use whatif_shared::scenarios::types::{Language, Length, PromptType, Section, TokenUsage};

const TITLE: &str = "Điều gì xảy ra nếu Mặt Trăng biến mất?";
const TOPIC: &str = "Nếu Mặt Trăng biến mất thì Trái Đất sẽ ra sao?";
const TIDES_BODY: &str = "Thủy triều sẽ yếu đi khoảng hai phần ba, chỉ còn lại thủy triều do Mặt Trời gây ra. \
Các hệ sinh thái ven biển, vốn sống nhờ nhịp lên xuống của nước, sẽ thay đổi hoàn toàn.";

fn scenario(sections: Vec<Section>) -> Scenario {
    let content = sections.iter().map(|s| format!("## {}\n\n{}", s.heading, s.body)).collect::<Vec<_>>().join("\n\n");
    // From the wire form, as a stored scenario reads (fields added later with a default need no change here).
    let json = serde_json::json!({
        "id": "01JQ8Z6Y4V7R2K3M5N8P9Q0RST",
        "topic": TOPIC,
        "title": TITLE,
        "summary": "Không có Mặt Trăng, Trái Đất mất đi người bạn đồng hành ổn định trục quay và thủy triều.",
        "content": content,
        "sections": sections,
        "choices": [
            { "id": "c1", "text": "Loài người xây một Mặt Trăng nhân tạo" },
            { "id": "c2", "text": "Trục Trái Đất nghiêng hỗn loạn — Ωμέγα" },
            { "id": "c3", "text": "Привет, a message from the Moon's ghost" },
        ],
        "promptType": PromptType::Scientific,
        "language": Language::Vi,
        "length": Length::Medium,
        "provider": "offline",
        "model": "offline-v1",
        "tokens": TokenUsage::new(120, 880),
        "rootId": "01JQ8Z6Y4V7R2K3M5N8P9Q0RST",
        "depth": 0,
        "tags": ["khoa học", "vũ trụ"],
        "promptVersion": "v3",
        "version": 1,
        "createdAt": "2025-03-01T08:15:30Z",
        "updatedAt": "2025-03-02T10:00:00.123Z",
    });
    let mut scenario: Scenario = serde_json::from_value(json).expect("a scenario");
    scenario.owner_id = "user-1".to_string();
    scenario
}

fn short() -> Scenario {
    scenario(vec![
        Section { heading: "Thủy triều".to_string(), body: TIDES_BODY.to_string() },
        Section {
            heading: "Đêm tối hơn".to_string(),
            body:
                "Không còn ánh trăng, bầu trời đêm tối hơn nhiều.\n\nNhiều loài vật săn mồi ban đêm sẽ phải thích nghi."
                    .to_string(),
        },
        Section {
            heading: "Ωμέγα và Привет".to_string(),
            body: "Các nhà khoa học khắp thế giới, từ Athens (Ωμέγα) đến Moskva (Привет), cùng theo dõi.".to_string(),
        },
    ])
}

/// ~30 sections of several paragraphs: many pages.
fn long() -> Scenario {
    let sections = (1..=30)
        .map(|i| Section {
            heading: format!("Phần {i}: Hệ quả thứ {i}"),
            body: (1..=4)
                .map(|p| {
                    format!(
                        "Đoạn {p} của phần {i}. Khi Mặt Trăng biến mất, trục quay của Trái Đất dao động mạnh hơn, \
                         khí hậu thay đổi thất thường qua hàng triệu năm, và các mùa không còn đều đặn như trước. \
                         Những sinh vật sống theo chu kỳ ánh trăng phải tìm cách khác để sinh tồn."
                    )
                })
                .collect::<Vec<_>>()
                .join("\n\n"),
        })
        .collect();
    scenario(sections)
}

fn render(scenario: &Scenario, format: Format) -> Vec<u8> {
    match export::render(scenario, format) {
        Ok(bytes) => bytes,
        Err(e) => panic!("{format:?} does not render: {e}"),
    }
}

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("UTF-8")
}

/// Whitespace runs as one space (line breaks of wrapped text become spaces).
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn formats_parse_and_describe_themselves() {
    assert_eq!(Format::parse("md"), Some(Format::Md));
    assert_eq!(Format::parse("Markdown"), Some(Format::Md));
    assert_eq!(Format::parse("JSON"), Some(Format::Json));
    assert_eq!(Format::parse("txt"), Some(Format::Txt));
    assert_eq!(Format::parse("Pdf"), Some(Format::Pdf));
    assert_eq!(Format::parse("EPUB"), Some(Format::Epub));
    assert_eq!(Format::parse("docx"), None);
    assert_eq!(Format::parse(""), None);
    let described: Vec<_> = Format::ALL.iter().map(|f| (f.extension(), f.content_type())).collect();
    assert_eq!(
        described,
        vec![
            ("md", "text/markdown; charset=utf-8"),
            ("json", "application/json"),
            ("txt", "text/plain; charset=utf-8"),
            ("pdf", "application/pdf"),
            ("epub", "application/epub+zip"),
        ]
    );
    for f in Format::ALL {
        assert_eq!(Format::parse(f.extension()), Some(f));
    }
}

#[test]
fn file_names_are_ascii_slugs_of_the_title() {
    let s = short();
    assert_eq!(export::file_name(&s, Format::Pdf), "dieu-gi-xay-ra-neu-mat-trang-bien-mat.pdf");
    assert_eq!(export::file_name(&s, Format::Epub), "dieu-gi-xay-ra-neu-mat-trang-bien-mat.epub");
    assert_eq!(export::file_name(&s, Format::Md), "dieu-gi-xay-ra-neu-mat-trang-bien-mat.md");
    let mut other = short();
    other.title = "  What if *Rome* never fell?!  ".to_string();
    assert_eq!(export::file_name(&other, Format::Json), "what-if-rome-never-fell.json");
    other.title = "Привет / Ωμέγα".to_string();
    assert_eq!(export::file_name(&other, Format::Txt), "scenario.txt");
    other.title = "Đường ".repeat(30);
    let name = export::file_name(&other, Format::Txt);
    let stem = name.trim_end_matches(".txt");
    assert!(stem.len() <= 60 && stem.starts_with("duong-duong") && !stem.ends_with('-'), "{name}");
    assert!(name.is_ascii());
}

#[test]
fn every_format_renders_every_scenario() {
    for s in [short(), long()] {
        for f in Format::ALL {
            assert!(render(&s, f).len() > 100, "{f:?}");
        }
    }
}

#[test]
fn json_is_the_scenario_as_served() {
    let s = short();
    let json = render(&s, Format::Json);
    let value: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    assert_eq!(value["title"], TITLE);
    assert_eq!(value["promptType"], "scientific");
    assert_eq!(value["sections"][0]["heading"], "Thủy triều");
    assert!(value.get("ownerId").is_none() && value.get("owner_id").is_none());
    let back: Scenario = serde_json::from_slice(&json).expect("a scenario");
    assert_eq!(back, Scenario { owner_id: String::new(), ..s });
    assert!(utf8(json).contains("Điều gì xảy ra"), "the JSON is UTF-8, not escaped");
}

#[test]
fn markdown_has_the_title_topic_sections_choices_and_footer() {
    let s = short();
    let md = utf8(render(&s, Format::Md));
    assert!(md.starts_with(&format!("# {TITLE}\n\n> {TOPIC}\n\n")), "{md}");
    assert!(md.contains(&s.summary));
    for section in &s.sections {
        assert!(md.contains(&format!("\n## {}\n\n", section.heading)), "{}", section.heading);
    }
    assert!(md.contains(TIDES_BODY));
    assert!(md.contains("Không còn ánh trăng, bầu trời đêm tối hơn nhiều.\n\nNhiều loài vật"));
    let next = md.find("\n## What could happen next\n\n").expect("the choices");
    assert!(next > md.find("## Ωμέγα và Привет").expect("the last section"));
    for choice in &s.choices {
        assert!(md[next..].contains(&format!("\n- {}\n", choice.text)), "{}", choice.text);
    }
    for fact in ["Language: vi", "Prompt type: scientific", "Model: offline / offline-v1", "Created: 2025-03-01"] {
        assert!(md.contains(fact), "{fact}");
    }
}

#[test]
fn plain_text_has_the_content_without_markdown() {
    let mut s = short();
    s.sections[0].body = format!("**Quan trọng:** {TIDES_BODY}");
    let txt = utf8(render(&s, Format::Txt));
    let underline = "=".repeat(TITLE.chars().count());
    assert!(txt.starts_with(&format!("{TITLE}\n{underline}\n\n{TOPIC}\n")), "{txt}");
    for section in &s.sections {
        let underline = "-".repeat(section.heading.chars().count());
        assert!(txt.contains(&format!("{}\n{underline}\n", section.heading)), "{}", section.heading);
    }
    assert!(txt.contains(&format!("Quan trọng: {TIDES_BODY}")));
    for choice in &s.choices {
        assert!(txt.contains(&choice.text), "{}", choice.text);
    }
    assert!(txt.contains("What could happen next\n----------------------\n"));
    for markdown in ["# ", "## ", "**", "> "] {
        assert!(!txt.contains(markdown), "{markdown:?} in the text");
    }
}

/// The text a PDF reader extracts, whitespace squashed.
fn pdf_text(pdf: &[u8]) -> String {
    squash(&pdf_extract::extract_text_from_mem(pdf).expect("the text extracts"))
}

fn dict<'a>(doc: &'a PdfDocument, object: &'a Object) -> &'a pdf_extract::Dictionary {
    match object {
        Object::Reference(id) => dict(doc, doc.get_object(*id).expect("the referenced object")),
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        other => panic!("not a dictionary: {other:?}"),
    }
}

fn name<'a>(d: &'a pdf_extract::Dictionary, key: &[u8]) -> &'a [u8] {
    d.get(key).and_then(Object::as_name).unwrap_or_else(|_| panic!("no /{}", String::from_utf8_lossy(key)))
}

#[test]
fn pdf_text_extracts_with_its_diacritics() {
    let s = short();
    let pdf = render(&s, Format::Pdf);
    assert!(pdf.starts_with(b"%PDF-1.") && pdf.trim_ascii_end().ends_with(b"%%EOF"));
    let text = pdf_text(&pdf);
    assert!(text.contains(TITLE), "{text}");
    assert!(text.contains(TOPIC), "{text}");
    assert!(text.contains(&s.summary), "{text}");
    assert!(text.contains(TIDES_BODY), "{text}");
    assert!(text.contains("Các nhà khoa học khắp thế giới, từ Athens (Ωμέγα) đến Moskva (Привет), cùng theo dõi."));
    for section in &s.sections {
        assert!(text.contains(&section.heading), "{}", section.heading);
    }
    assert!(text.contains("What could happen next"));
    for choice in &s.choices {
        assert!(text.contains(&choice.text), "{}", choice.text);
    }
    // The facts follow the choices, and the page number closes the page.
    assert!(text.find("Language: vi").expect("the facts") > text.find("Loài người xây").expect("a choice"));
    assert!(text.contains("1 / 1"));
    let doc = PdfDocument::load_mem(&pdf).expect("the PDF parses");
    assert_eq!(doc.get_pages().len(), 1);
}

#[test]
fn pdf_embeds_a_subset_of_the_font_as_a_cid_font() {
    let pdf = render(&short(), Format::Pdf);
    let doc = PdfDocument::load_mem(&pdf).expect("the PDF parses");
    let (_, &page) = doc.get_pages().iter().next().expect("a page");
    let fonts = doc.get_page_fonts(page).expect("the page's fonts");
    assert_eq!(fonts.len(), 1);
    let type0 = fonts.values().next().expect("a font");
    assert_eq!(name(type0, b"Subtype"), b"Type0");
    assert_eq!(name(type0, b"Encoding"), b"Identity-H");
    let base_font = name(type0, b"BaseFont");
    assert!(base_font.ends_with(b"+NotoSans-Regular") && base_font.len() == 23, "{base_font:?}");
    assert!(type0.get(b"ToUnicode").is_ok(), "a ToUnicode CMap");
    let descendants = type0.get(b"DescendantFonts").and_then(Object::as_array).expect("descendants");
    let cid_font = dict(&doc, &descendants[0]);
    assert_eq!(name(cid_font, b"Subtype"), b"CIDFontType2");
    assert!(cid_font.get(b"W").is_ok(), "glyph widths");
    let descriptor = dict(&doc, cid_font.get(b"FontDescriptor").expect("a descriptor"));
    let file_id = descriptor.get(b"FontFile2").and_then(Object::as_reference).expect("an embedded TrueType font");
    let stream = doc.get_object(file_id).and_then(Object::as_stream).expect("the font stream");
    let font = stream.decompressed_content().expect("the font inflates");
    let length1 = stream.dict.get(b"Length1").and_then(Object::as_i64).expect("/Length1");
    assert_eq!(usize::try_from(length1).ok(), Some(font.len()));
    let face = ttf_parser::Face::parse(&font, 0).expect("a TrueType font");
    // A subset: the glyphs of the text (and their components), not Noto's 3317.
    assert!((40..400).contains(&face.number_of_glyphs()), "{} glyphs", face.number_of_glyphs());
    assert!(pdf.len() < 60_000, "a short scenario is {} bytes", pdf.len());
}

#[test]
fn a_long_scenario_flows_over_pages_and_loses_nothing() {
    let s = long();
    let pdf = render(&s, Format::Pdf);
    let doc = PdfDocument::load_mem(&pdf).expect("the PDF parses");
    let pages = doc.get_pages();
    assert!(pages.len() > 5, "{} pages", pages.len());
    // Every line sits inside the page: text positions within the margins.
    for &page in pages.values() {
        let content = doc.get_and_decode_page_content(page).expect("the page's content");
        let mut lines = 0;
        for op in content.operations.iter().filter(|op| op.operator == "Tm") {
            let x = op.operands[4].as_float().expect("x");
            let y = op.operands[5].as_float().expect("y");
            assert!((40.0..300.0).contains(&x), "x = {x}");
            assert!((30.0..800.0).contains(&y), "y = {y}");
            lines += 1;
        }
        assert!(lines > 2, "an empty page");
    }
    let by_page = pdf_extract::extract_text_from_mem_by_pages(&pdf).expect("the text extracts");
    assert_eq!(by_page.len(), pages.len());
    // The page's text without its number at the foot, pages joined.
    let count = pages.len();
    let mut text = String::new();
    for (i, page_text) in by_page.iter().enumerate() {
        let page_text = squash(page_text);
        let footer = format!(" {} / {count}", i + 1);
        assert!(page_text.ends_with(&footer), "page {i} ends with {page_text:?}");
        text.push_str(page_text.trim_end_matches(&footer));
        text.push(' ');
    }
    for section in &s.sections {
        assert!(text.contains(&section.heading), "{}", section.heading);
        for paragraph in section.body.split("\n\n") {
            assert!(text.contains(paragraph), "{paragraph}");
        }
    }
    assert!(squash(&by_page[0]).contains(TITLE));
    assert!(squash(&by_page[count - 1]).contains(&format!("{count} / {count}")));
    assert!(squash(&by_page[count - 1]).contains(&s.choices[2].text));
    // A heading is never the last line of a page: its first paragraph starts on the same page.
    for (i, page_text) in by_page.iter().enumerate() {
        let page_text = squash(page_text);
        for n in 1..=30 {
            if page_text.contains(&format!("Phần {n}: Hệ quả thứ {n}")) {
                assert!(page_text.contains(&format!("Đoạn 1 của phần {n}.")), "page {i}: heading {n} alone");
            }
        }
    }
}

/// The EPUB's entries by name.
fn epub_entry(epub: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(epub)).expect("a zip");
    let mut file = archive.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).expect("the entry reads");
    bytes
}

fn xml(text: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    roxmltree::Document::parse_with_options(text, options).unwrap_or_else(|e| panic!("not well-formed: {e}\n{text}"))
}

fn child_text<'a>(doc: &'a roxmltree::Document, tag: &str) -> Vec<&'a str> {
    doc.descendants().filter(|n| n.tag_name().name() == tag).filter_map(|n| n.text()).collect()
}

#[test]
fn epub_is_a_valid_package() {
    let s = short();
    let epub = render(&s, Format::Epub);
    // `mimetype` first, stored, with no extra field: its content at byte 38.
    assert_eq!(&epub[30..38], b"mimetype");
    assert_eq!(&epub[38..58], b"application/epub+zip");
    let mut archive = zip::ZipArchive::new(Cursor::new(&epub)).expect("a zip");
    {
        let first = archive.by_index(0).expect("an entry");
        assert_eq!(first.name().expect("a name"), "mimetype");
        assert_eq!(first.compression(), zip::CompressionMethod::Stored);
    }
    let names: Vec<String> = archive.file_names().map(|n| n.expect("a name").into_owned()).collect();

    let container = utf8(epub_entry(&epub, "META-INF/container.xml"));
    let container = xml(&container);
    let rootfile = container.descendants().find(|n| n.has_tag_name("rootfile")).expect("a rootfile");
    assert_eq!(rootfile.attribute("media-type"), Some("application/oebps-package+xml"));
    let opf_path = rootfile.attribute("full-path").expect("the package path");

    let opf_text = utf8(epub_entry(&epub, opf_path));
    let opf = xml(&opf_text);
    let package = opf.root_element();
    assert_eq!(package.attribute("version"), Some("3.0"));
    let uid = package.attribute("unique-identifier").expect("unique-identifier");
    let identifier = opf.descendants().find(|n| n.attribute("id") == Some(uid)).expect("the identifier");
    assert_eq!(identifier.text(), Some("urn:ulid:01JQ8Z6Y4V7R2K3M5N8P9Q0RST"));
    assert_eq!(child_text(&opf, "title"), vec![TITLE]);
    assert_eq!(child_text(&opf, "language"), vec!["vi"]);
    let modified = opf
        .descendants()
        .find(|n| n.attribute("property") == Some("dcterms:modified"))
        .and_then(|n| n.text())
        .expect("dcterms:modified");
    assert_eq!(modified, "2025-03-02T10:00:00Z");

    // Every manifest item is in the archive; exactly one is the nav document.
    let base = opf_path.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default();
    let items: Vec<_> = opf.descendants().filter(|n| n.has_tag_name("item")).collect();
    for item in &items {
        let href = format!("{base}{}", item.attribute("href").expect("href"));
        assert!(names.contains(&href), "{href} missing from {names:?}");
    }
    assert_eq!(items.iter().filter(|i| i.attribute("properties") == Some("nav")).count(), 1);
    let spine: Vec<_> = opf.descendants().filter(|n| n.has_tag_name("itemref")).collect();
    assert!(!spine.is_empty());
    let font = items.iter().find(|i| i.attribute("media-type") == Some("font/ttf")).expect("the font item");
    let font_path = format!("{base}{}", font.attribute("href").expect("href"));
    let font_bytes = epub_entry(&epub, &font_path);
    assert!(ttf_parser::Face::parse(&font_bytes, 0).is_ok_and(|f| f.glyph_index('Đ').is_some()));

    // The content document: well-formed XHTML with the text as written.
    let content_item = items
        .iter()
        .find(|i| i.attribute("id") == spine[0].attribute("idref"))
        .and_then(|i| i.attribute("href"))
        .expect("the spine's document");
    let content_text = utf8(epub_entry(&epub, &format!("{base}{content_item}")));
    let content = xml(&content_text);
    assert_eq!(content.root_element().attribute(("http://www.w3.org/XML/1998/namespace", "lang")), Some("vi"));
    assert_eq!(child_text(&content, "h1"), vec![TITLE]);
    let h2 = child_text(&content, "h2");
    let mut headings: Vec<&str> = s.sections.iter().map(|s| s.heading.as_str()).collect();
    headings.push("What could happen next");
    assert_eq!(h2, headings);
    let paragraphs = child_text(&content, "p");
    assert!(paragraphs.contains(&TIDES_BODY), "{paragraphs:?}");
    assert!(paragraphs.contains(&TOPIC));
    let choices = child_text(&content, "li");
    assert_eq!(choices, s.choices.iter().map(|c| c.text.as_str()).collect::<Vec<_>>());

    // The style sheet embeds the font.
    let css_item = items.iter().find(|i| i.attribute("media-type") == Some("text/css")).expect("a style sheet");
    let css = utf8(epub_entry(&epub, &format!("{base}{}", css_item.attribute("href").expect("href"))));
    let font_href = font.attribute("href").expect("href");
    assert!(css.contains("@font-face") && css.contains(font_href), "{css}");

    // The navigation document lists the sections.
    let nav_item = items.iter().find(|i| i.attribute("properties") == Some("nav")).expect("nav");
    let nav_text = utf8(epub_entry(&epub, &format!("{base}{}", nav_item.attribute("href").expect("href"))));
    let nav = xml(&nav_text);
    let links = child_text(&nav, "a");
    for section in &s.sections {
        assert!(links.contains(&section.heading.as_str()), "{}", section.heading);
    }
}

#[test]
fn markup_in_the_text_stays_text() {
    let mut s = short();
    s.title = "AT&T <script>alert('x')</script> \"quoted\"".to_string();
    s.sections[0].body = "Less < more & <b>not bold</b>\u{1}.".to_string();
    s.choices[0].text = "]]> & <!-- -->".to_string();
    let epub = render(&s, Format::Epub);
    let content_text = utf8(epub_entry(&epub, "OEBPS/scenario.xhtml"));
    let content = xml(&content_text);
    assert_eq!(child_text(&content, "h1"), vec![s.title.as_str()]);
    assert!(child_text(&content, "p").contains(&"Less < more & <b>not bold</b>."));
    assert!(child_text(&content, "li").contains(&"]]> & <!-- -->"));
    assert!(!content.descendants().any(|n| n.has_tag_name("script") || n.has_tag_name("b")));
    let opf_text = utf8(epub_entry(&epub, "OEBPS/content.opf"));
    assert_eq!(child_text(&xml(&opf_text), "title"), vec![s.title.as_str()]);

    let text = pdf_text(&render(&s, Format::Pdf));
    assert!(text.contains("AT&T <script>alert('x')</script> \"quoted\""), "{text}");
    assert!(text.contains("Less < more & <b>not bold</b>."), "{text}");
}

/// Writes a sample of every format to `$EXPORT_SAMPLES` (a folder) to look at:
/// `EXPORT_SAMPLES=/tmp/samples cargo test -p whatif-history --test export_formats -- --ignored`.
#[test]
#[ignore = "writes sample files to look at"]
fn write_samples() {
    let Some(dir) = std::env::var_os("EXPORT_SAMPLES") else { return };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("the folder");
    for (prefix, s) in [("short", short()), ("long", long())] {
        for f in Format::ALL {
            let path = dir.join(format!("{prefix}-{}", export::file_name(&s, f)));
            std::fs::write(&path, render(&s, f)).expect("the file");
        }
    }
}
