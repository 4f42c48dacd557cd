//! EPUB 3: a zip whose first entry is `mimetype`, stored; `META-INF/container.xml`
//! pointing at the package document; the package (`OEBPS/content.opf`) with
//! its metadata, manifest and spine; a navigation document; one XHTML content
//! document; a style sheet and the font it names with `@font-face`.

use std::io::{Cursor, Write};

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use super::font;
use super::{Document, ExportError, NEXT_HEADING, utc};

const MIMETYPE: &str = "application/epub+zip";
const PACKAGE_PATH: &str = "OEBPS/content.opf";

pub(super) fn render(doc: &Document) -> Result<Vec<u8>, ExportError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    // Readers sniff the type from the first bytes: `mimetype` first, stored, no extra fields.
    zip.start_file("mimetype", SimpleFileOptions::default().compression_method(CompressionMethod::Stored))?;
    zip.write_all(MIMETYPE.as_bytes())?;
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (path, bytes) in [
        ("META-INF/container.xml", container().into_bytes()),
        (PACKAGE_PATH, package(doc).into_bytes()),
        ("OEBPS/nav.xhtml", nav(doc).into_bytes()),
        ("OEBPS/scenario.xhtml", content(doc).into_bytes()),
        ("OEBPS/style.css", style().into_bytes()),
    ] {
        zip.start_file(path, deflated)?;
        zip.write_all(&bytes)?;
    }
    zip.start_file(format!("OEBPS/fonts/{}", font::FILE_NAME), deflated)?;
    zip.write_all(font::FONT)?;
    Ok(zip.finish()?.into_inner())
}

fn container() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="{PACKAGE_PATH}" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"#
    )
}

/// The publication's identifier: `urn:ulid:` and the id when it is a ULID (it
/// always is for a stored scenario).
fn identifier(id: &str) -> String {
    match ulid::Ulid::from_string(id) {
        Ok(ulid) => format!("urn:ulid:{ulid}"),
        Err(_) => format!("urn:whatif:scenario:{}", escape(id)),
    }
}

/// `CCYY-MM-DDThh:mm:ssZ`, as `dcterms:modified` must be.
fn modified(doc: &Document) -> String {
    let scenario = doc.scenario;
    let t = utc(&scenario.updated_at).or_else(|| utc(&scenario.created_at)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn package(doc: &Document) -> String {
    let scenario = doc.scenario;
    let language = scenario.language.as_str();
    let mut meta = String::new();
    if !doc.summary.is_empty() {
        meta.push_str(&format!("    <dc:description>{}</dc:description>\n", escape(&doc.summary.join(" "))));
    }
    if let Some(created) = utc(&scenario.created_at) {
        meta.push_str(&format!(
            "    <dc:date>{:04}-{:02}-{:02}</dc:date>\n",
            created.year(),
            u8::from(created.month()),
            created.day()
        ));
    }
    for tag in &scenario.tags {
        meta.push_str(&format!("    <dc:subject>{}</dc:subject>\n", escape(tag)));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="{language}">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">{identifier}</dc:identifier>
    <dc:title>{title}</dc:title>
    <dc:language>{language}</dc:language>
    <dc:creator>What If Generator</dc:creator>
    <dc:publisher>What If Generator</dc:publisher>
{meta}    <meta property="dcterms:modified">{modified}</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="scenario" href="scenario.xhtml" media-type="application/xhtml+xml"/>
    <item id="style" href="style.css" media-type="text/css"/>
    <item id="font" href="fonts/{font}" media-type="font/ttf"/>
  </manifest>
  <spine>
    <itemref idref="scenario"/>
  </spine>
</package>
"#,
        identifier = identifier(&scenario.id),
        title = escape(&doc.title),
        modified = modified(doc),
        font = font::FILE_NAME,
    )
}

/// An XHTML document around a body.
fn xhtml(doc: &Document, title: &str, body: &str) -> String {
    let language = doc.scenario.language.as_str();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="{language}" lang="{language}">
<head>
  <meta charset="utf-8"/>
  <title>{title}</title>
  <link rel="stylesheet" type="text/css" href="style.css"/>
</head>
<body>
{body}</body>
</html>
"#,
        title = escape(title),
    )
}

fn nav(doc: &Document) -> String {
    let mut items = String::new();
    for (i, section) in doc.sections.iter().enumerate() {
        if !section.heading.is_empty() {
            items.push_str(&format!(
                "      <li><a href=\"scenario.xhtml#section-{}\">{}</a></li>\n",
                i + 1,
                escape(&section.heading)
            ));
        }
    }
    if !doc.choices.is_empty() {
        items.push_str(&format!("      <li><a href=\"scenario.xhtml#next\">{NEXT_HEADING}</a></li>\n"));
    }
    let body = format!(
        r#"  <nav epub:type="toc" id="toc">
    <h1>{title}</h1>
    <ol>
      <li><a href="scenario.xhtml">{title}</a></li>
{items}    </ol>
  </nav>
"#,
        title = escape(&doc.title),
    );
    xhtml(doc, &doc.title, &body)
}

fn content(doc: &Document) -> String {
    let mut body = format!("  <h1>{}</h1>\n", escape(&doc.title));
    if !doc.topic.is_empty() {
        body.push_str(&format!("  <p class=\"topic\">{}</p>\n", escape(&doc.topic)));
    }
    for p in &doc.summary {
        body.push_str(&format!("  <p class=\"summary\">{}</p>\n", paragraph(p)));
    }
    for (i, section) in doc.sections.iter().enumerate() {
        body.push_str(&format!("  <section id=\"section-{}\">\n", i + 1));
        if !section.heading.is_empty() {
            body.push_str(&format!("    <h2>{}</h2>\n", escape(&section.heading)));
        }
        for p in &section.paragraphs {
            body.push_str(&format!("    <p>{}</p>\n", paragraph(p)));
        }
        body.push_str("  </section>\n");
    }
    if !doc.choices.is_empty() {
        body.push_str(&format!("  <section id=\"next\">\n    <h2>{NEXT_HEADING}</h2>\n    <ul class=\"choices\">\n"));
        for choice in &doc.choices {
            body.push_str(&format!("      <li>{}</li>\n", escape(choice)));
        }
        body.push_str("    </ul>\n  </section>\n");
    }
    body.push_str(&format!("  <footer><p class=\"facts\">{}</p></footer>\n", escape(&doc.facts_line())));
    xhtml(doc, &doc.title, &body)
}

/// A paragraph's lines, escaped, joined by line breaks.
fn paragraph(text: &str) -> String {
    text.lines().map(escape).collect::<Vec<_>>().join("<br/>\n")
}

fn style() -> String {
    format!(
        r#"@font-face {{
  font-family: "{family}";
  font-style: normal;
  font-weight: normal;
  src: url("fonts/{file}") format("truetype");
}}
body {{ font-family: "{family}", sans-serif; line-height: 1.5; margin: 0 5%; }}
h1 {{ font-size: 1.8em; line-height: 1.2; margin: 1em 0 0.3em; }}
h2 {{ font-size: 1.3em; line-height: 1.25; margin: 1.4em 0 0.4em; }}
p {{ margin: 0 0 0.7em; text-align: left; }}
p.topic {{ font-style: italic; color: #555; }}
p.summary {{ font-size: 1.05em; }}
ul.choices li {{ margin-bottom: 0.4em; }}
footer {{ margin-top: 2em; border-top: 1px solid #ccc; }}
p.facts {{ font-size: 0.8em; color: #666; }}
"#,
        family = font::FAMILY,
        file = font::FILE_NAME,
    )
}

/// Text for XML (see `whatif_shared::text::escape_markup`).
fn escape(text: &str) -> String {
    whatif_shared::text::escape_markup(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_text_safe_for_xml() {
        assert_eq!(escape("a < b & \"c\" 'd' >\u{1}"), "a &lt; b &amp; &quot;c&quot; &#39;d&#39; &gt;");
        assert_eq!(escape("Thủy triều"), "Thủy triều");
    }

    #[test]
    fn identifiers_use_the_ulid() {
        assert_eq!(identifier("01ARZ3NDEKTSV4RRFFQ69G5FAV"), "urn:ulid:01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(identifier("not<a>ulid"), "urn:whatif:scenario:not&lt;a&gt;ulid");
    }
}
