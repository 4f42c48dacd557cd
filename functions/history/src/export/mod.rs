//! Export of a scenario as a file a person keeps: Markdown, JSON, plain text,
//! PDF and EPUB. [`render`] makes the bytes, [`file_name`] the name to save
//! them under, [`Format`] the content type.
//!
//! Every renderer reads the same [`Document`]: the scenario's title, topic,
//! summary, sections (split into paragraphs), choices and a few facts about
//! how it was written. The PDF and the EPUB embed Noto Sans (`whatif_shared::fonts`, SIL
//! OFL 1.1), which covers Latin with Vietnamese, Greek and Cyrillic.

mod epub;
mod font;
mod pdf;
mod text;

use whatif_shared::scenarios::Scenario;
use whatif_shared::text::fold;

/// A file format a scenario exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Md,
    Json,
    Txt,
    Pdf,
    Epub,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Md, Format::Json, Format::Txt, Format::Pdf, Format::Epub];

    /// `md` (or `markdown`), `json`, `txt`, `pdf`, `epub`, in any case.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Md),
            "json" => Some(Format::Json),
            "txt" | "text" => Some(Format::Txt),
            "pdf" => Some(Format::Pdf),
            "epub" => Some(Format::Epub),
            _ => None,
        }
    }

    /// The `Content-Type` of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Md => "text/markdown; charset=utf-8",
            Format::Json => "application/json",
            Format::Txt => "text/plain; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Epub => "application/epub+zip",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Json => "json",
            Format::Txt => "txt",
            Format::Pdf => "pdf",
            Format::Epub => "epub",
        }
    }
}

/// Why a scenario did not export (always a fault on our side: every scenario exports).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the embedded font does not load: {0}")]
    Font(String),
    #[error("the scenario does not serialise: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the EPUB archive does not write: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("an export does not write: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ExportError> for whatif_shared::error::ApiError {
    fn from(e: ExportError) -> Self {
        whatif_shared::error::ApiError::internal(e)
    }
}

/// The most characters of a file name before its extension.
const MAX_SLUG: usize = 60;

/// A safe ASCII file name from the title: lower case, without diacritics
/// (`Điều gì xảy ra` → `dieu-gi-xay-ra`), every run of other characters one
/// `-`, at most 60 characters, `scenario` when nothing is left; then the extension.
pub fn file_name(scenario: &Scenario, format: Format) -> String {
    format!("{}.{}", slug(&scenario.title), format.extension())
}

fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in fold(title).chars() {
        let ascii = match c {
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            'þ' => "th",
            'ð' => "d",
            _ => "",
        };
        if !ascii.is_empty() {
            slug.push_str(ascii);
        } else if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.len() > MAX_SLUG {
        // Cut at the last word break that keeps it within the limit, when there is one.
        let cut = slug[..=MAX_SLUG].rfind('-').filter(|&i| i > MAX_SLUG / 2).unwrap_or(MAX_SLUG);
        slug.truncate(cut);
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() { "scenario".to_string() } else { slug.to_string() }
}

/// The file's bytes.
pub fn render(scenario: &Scenario, format: Format) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Json => {
            let mut json = serde_json::to_vec_pretty(scenario)?;
            json.push(b'\n');
            Ok(json)
        }
        Format::Md => Ok(text::markdown(&Document::new(scenario)).into_bytes()),
        Format::Txt => Ok(text::plain(&Document::new(scenario)).into_bytes()),
        Format::Pdf => pdf::render(&Document::new(scenario)),
        Format::Epub => epub::render(&Document::new(scenario)),
    }
}

/// The heading of the list of choices.
const NEXT_HEADING: &str = "What could happen next";

/// What every export shows, in reading order.
struct Document<'a> {
    scenario: &'a Scenario,
    title: String,
    topic: String,
    summary: Vec<String>,
    sections: Vec<DocSection>,
    choices: Vec<String>,
    /// Label and value: language, prompt type, model, created.
    facts: Vec<(&'static str, String)>,
}

struct DocSection {
    heading: String,
    /// Paragraphs; a paragraph's lines are kept (lists, verse).
    paragraphs: Vec<String>,
}

impl<'a> Document<'a> {
    fn new(scenario: &'a Scenario) -> Self {
        let mut sections: Vec<DocSection> = scenario
            .sections
            .iter()
            .map(|s| DocSection { heading: clean_line(&s.heading), paragraphs: paragraphs(&s.body) })
            .collect();
        if sections.is_empty() && !scenario.content.trim().is_empty() {
            sections = sections_from_markdown(&scenario.content);
        }
        let title = match clean_line(&scenario.title) {
            t if t.is_empty() => "What if…".to_string(),
            t => t,
        };
        let model = match (scenario.provider.trim(), scenario.model.trim()) {
            ("", m) | (m, "") => m.to_string(),
            (p, m) => format!("{p} / {m}"),
        };
        let mut facts = vec![
            ("Language", scenario.language.as_str().to_string()),
            ("Prompt type", scenario.prompt_type.as_str().to_string()),
        ];
        if !model.is_empty() {
            facts.push(("Model", model));
        }
        facts.push(("Created", display_date(&scenario.created_at)));
        if !scenario.tags.is_empty() {
            facts.push(("Tags", scenario.tags.iter().map(|t| clean_line(t)).collect::<Vec<_>>().join(", ")));
        }
        Document {
            scenario,
            title,
            topic: clean_line(&scenario.topic),
            summary: paragraphs(&scenario.summary),
            sections,
            choices: scenario.choices.iter().map(|c| clean_line(&c.text)).filter(|t| !t.is_empty()).collect(),
            facts,
        }
    }

    /// The facts on one line: `Language: vi · Prompt type: default · ...`.
    fn facts_line(&self) -> String {
        self.facts.iter().map(|(label, value)| format!("{label}: {value}")).collect::<Vec<_>>().join(" · ")
    }
}

/// Text without control characters (tabs and line breaks become spaces).
fn clean_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .filter_map(|c| if c.is_whitespace() { Some(' ') } else { (!c.is_control()).then_some(c) })
        .collect();
    spaced.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The paragraphs of a body: split at blank lines, each line cleaned, empty ones dropped.
fn paragraphs(body: &str) -> Vec<String> {
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    body.split("\n\n")
        .map(|p| p.lines().map(clean_line).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n"))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Sections from the markdown `content` (`## heading` then the body), for a
/// scenario stored without its `sections`.
fn sections_from_markdown(content: &str) -> Vec<DocSection> {
    let mut sections = Vec::new();
    let mut heading = String::new();
    let mut body = String::new();
    let mut flush = |heading: &str, body: &str| {
        if !heading.is_empty() || !body.trim().is_empty() {
            sections.push(DocSection { heading: heading.to_string(), paragraphs: paragraphs(body) });
        }
    };
    for line in content.lines() {
        if let Some(h) = line.trim_start().strip_prefix("## ") {
            flush(&heading, &body);
            heading = clean_line(h);
            body.clear();
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&heading, &body);
    sections
}

/// `2025-03-01` from an RFC 3339 time; the text as it is when it does not parse.
fn display_date(rfc3339: &str) -> String {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
        })
        .unwrap_or_else(|_| clean_line(rfc3339))
}

/// The time in UTC, when it parses.
fn utc(rfc3339: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.to_offset(time::UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_bounded() {
        assert_eq!(slug("Điều gì xảy ra nếu Mặt Trăng biến mất?"), "dieu-gi-xay-ra-neu-mat-trang-bien-mat");
        assert_eq!(slug("  What if Rome never fell?!  "), "what-if-rome-never-fell");
        assert_eq!(slug("Straße & Œuvre"), "strasse-oeuvre");
        assert_eq!(slug("Привет"), "scenario");
        assert_eq!(slug(""), "scenario");
        let long = slug(&"word ".repeat(40));
        assert!(long.len() <= MAX_SLUG && !long.ends_with('-'), "{long}");
        let unbroken = slug(&"a".repeat(100));
        assert_eq!(unbroken.len(), MAX_SLUG);
    }

    #[test]
    fn paragraphs_split_at_blank_lines() {
        assert_eq!(paragraphs("One\ntwo\r\n\r\n\n  Three \t four\u{7}\n\n"), vec!["One\ntwo", "Three four"]);
    }

    #[test]
    fn sections_come_from_markdown_when_missing() {
        let s = sections_from_markdown("## First\nBody one.\n\nMore.\n## Second\nBody two.");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].heading, "First");
        assert_eq!(s[0].paragraphs, vec!["Body one.", "More."]);
        assert_eq!(s[1].paragraphs, vec!["Body two."]);
    }

    #[test]
    fn dates_display_in_utc() {
        assert_eq!(display_date("2025-03-01T23:30:00-02:00"), "2025-03-02");
        assert_eq!(display_date("yesterday"), "yesterday");
    }
}
