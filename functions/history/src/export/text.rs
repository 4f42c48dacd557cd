//! Markdown and plain text.

use super::{Document, NEXT_HEADING};

/// `# title`, the topic as a quote, the summary, `## heading` + body per
/// section, the choices as a list, and a footer with the facts.
pub(super) fn markdown(doc: &Document) -> String {
    let mut md = format!("# {}\n\n", doc.title);
    if !doc.topic.is_empty() {
        md.push_str(&format!("> {}\n\n", doc.topic));
    }
    for p in &doc.summary {
        md.push_str(&format!("{}\n\n", hard_breaks(p)));
    }
    for section in &doc.sections {
        if !section.heading.is_empty() {
            md.push_str(&format!("## {}\n\n", section.heading));
        }
        for p in &section.paragraphs {
            md.push_str(&format!("{}\n\n", hard_breaks(p)));
        }
    }
    if !doc.choices.is_empty() {
        md.push_str(&format!("## {NEXT_HEADING}\n\n"));
        for choice in &doc.choices {
            md.push_str(&format!("- {choice}\n"));
        }
        md.push('\n');
    }
    md.push_str(&format!("---\n\n*{}*\n", doc.facts_line()));
    md
}

/// A paragraph whose lines stay lines in Markdown: list items and quotes keep
/// their own syntax; other lines end with a hard break (a backslash).
fn hard_breaks(paragraph: &str) -> String {
    let lines: Vec<&str> = paragraph.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        if let Some(next) = lines.get(i + 1) {
            if !starts_block(next) && !starts_block(line) {
                out.push('\\');
            }
            out.push('\n');
        }
    }
    out
}

/// A Markdown line that starts its own block (a list item, a quote, a heading).
fn starts_block(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("- ")
        || line.starts_with("* ")
        || line.starts_with("+ ")
        || line.starts_with('>')
        || line.starts_with('#')
        || line.split_once(". ").is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The same content as plain text: the title underlined with `=`, headings with
/// `-`, no Markdown syntax.
pub(super) fn plain(doc: &Document) -> String {
    let mut txt = underlined(&doc.title, '=');
    if !doc.topic.is_empty() {
        txt.push_str(&format!("{}\n\n", doc.topic));
    }
    for p in &doc.summary {
        txt.push_str(&format!("{}\n\n", unmark(p)));
    }
    for section in &doc.sections {
        if !section.heading.is_empty() {
            txt.push_str(&underlined(&unmark(&section.heading), '-'));
        }
        for p in &section.paragraphs {
            txt.push_str(&format!("{}\n\n", unmark(p)));
        }
    }
    if !doc.choices.is_empty() {
        txt.push_str(&underlined(NEXT_HEADING, '-'));
        for (i, choice) in doc.choices.iter().enumerate() {
            txt.push_str(&format!("{}. {}\n", i + 1, unmark(choice)));
        }
        txt.push('\n');
    }
    txt.push_str(&format!("{}\n", doc.facts_line()));
    txt
}

/// `text`, then a line of `mark` as wide as it, then a blank line.
fn underlined(text: &str, mark: char) -> String {
    let width = text.chars().count().max(3);
    format!("{text}\n{}\n\n", mark.to_string().repeat(width))
}

/// Text without the Markdown a model may write: emphasis markers, heading
/// hashes, quote marks and backticks. List markers stay (they read as text).
pub(super) fn unmark(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let line = match trimmed.trim_start_matches('#') {
                rest if rest.len() < trimmed.len() && rest.starts_with(' ') => rest.trim_start(),
                _ => line,
            };
            let line = line.strip_prefix("> ").unwrap_or(line);
            line.replace("**", "").replace("__", "").replace('`', "")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmark_drops_markdown() {
        assert_eq!(unmark("## Head\n**bold** and `code`\n> quoted\n- item"), "Head\nbold and code\nquoted\n- item");
        assert_eq!(unmark("#hashtag stays"), "#hashtag stays");
    }

    #[test]
    fn hard_breaks_keep_lines() {
        assert_eq!(hard_breaks("one\ntwo"), "one\\\ntwo");
        assert_eq!(hard_breaks("Intro:\n- a\n- b"), "Intro:\n- a\n- b");
        assert_eq!(hard_breaks("1. a\n2. b"), "1. a\n2. b");
    }
}
