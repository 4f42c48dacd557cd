//! The scenario schema a model must produce and the validator of a model's
//! raw output. The options of a generation request and the parts of a
//! scenario (its value types) are the domain's, in
//! `whatif_shared::scenarios::types`, re-exported here.
//!
//! The validator, [`parse_model_output`], turns a model's raw text into a
//! [`GeneratedScenario`] or a [`ValidationError`] precise enough to send back
//! to the model in the one repair round.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
pub use whatif_shared::scenarios::types::{
    Choice, GenerationOptions, Language, Length, MaxTokens, PromptType, ScenarioSpec, Section, Temperature, Tone, Topic,
};

/// The scenario a "continue" request branches from, and the branch chosen
/// (a choice's text, or the caller's custom choice, which the route parses
/// with the rules of a [`Topic`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ParentContext {
    pub title: String,
    pub summary: String,
    pub choice: String,
}

// ---- the scenario a model produces --------------------------------------------

/// A valid scenario: a title, a summary, 3–5 sections, 2–4 choices with
/// unique ids, and `content`, the markdown made from the sections. Only
/// [`GeneratedScenario::new`] and [`parse_model_output`] make one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedScenario {
    title: String,
    summary: String,
    sections: Vec<Section>,
    choices: Vec<Choice>,
    content: String,
}

pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 1200;
pub const HEADING_MAX: usize = 200;
pub const BODY_MAX: usize = 8000;
pub const CHOICE_TEXT_MAX: usize = 300;
pub const CHOICE_ID_MAX: usize = 40;
pub const SECTIONS: std::ops::RangeInclusive<usize> = 3..=5;
pub const CHOICES: std::ops::RangeInclusive<usize> = 2..=4;

impl GeneratedScenario {
    /// Checks every rule of the schema; headings and titles are made one line.
    pub fn new(
        title: &str,
        summary: &str,
        sections: Vec<Section>,
        choices: Vec<Choice>,
    ) -> Result<Self, ValidationError> {
        from_value(&serde_json::json!({"title": title, "summary": summary, "sections": sections, "choices": choices}))
    }

    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn summary(&self) -> &str {
        &self.summary
    }
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }
    pub fn choices(&self) -> &[Choice] {
        &self.choices
    }
    /// Markdown: one `##` heading and its body per section.
    pub fn content(&self) -> &str {
        &self.content
    }
    pub fn choice(&self, id: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.id == id)
    }

    /// The JSON a model is asked to produce (no `content`, which is derived).
    pub fn to_model_json(&self) -> Value {
        serde_json::json!({
            "title": self.title,
            "summary": self.summary,
            "sections": self.sections,
            "choices": self.choices,
        })
    }
}

impl<'de> Deserialize<'de> for GeneratedScenario {
    /// Reading a stored scenario validates it again; `content` is re-derived.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        from_value(&value).map_err(D::Error::custom)
    }
}

/// Why a model's output is not a scenario: every problem found, each naming
/// where it is (`sections[2].body: must not be empty`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct ValidationError {
    pub problems: Vec<String>,
}

impl ValidationError {
    fn one(problem: impl Into<String>) -> Self {
        ValidationError { problems: vec![problem.into()] }
    }
}

/// The validator: a model's raw text → a scenario, or every reason it is not one.
///
/// Lenient only where nothing is lost: a markdown code fence or prose around
/// the one JSON object, numeric choice ids, choices given as bare strings,
/// missing choice ids (numbered `1`, `2`, ...), extra fields (ignored).
pub fn parse_model_output(raw: &str) -> Result<GeneratedScenario, ValidationError> {
    let json = extract_json(raw)?;
    let value: Value = serde_json::from_str(json).map_err(|e| {
        if e.is_eof() {
            ValidationError::one(format!("the JSON is cut off before its end ({e}); answer with the complete object"))
        } else {
            ValidationError::one(format!("the answer is not valid JSON: {e}"))
        }
    })?;
    from_value(&value)
}

fn extract_json(raw: &str) -> Result<&str, ValidationError> {
    let mut text = raw.trim().trim_start_matches('\u{feff}').trim();
    if let Some(rest) = text.strip_prefix("```") {
        // Drop the fence line (```json) and the closing fence, if any.
        text = rest.split_once('\n').map_or("", |(_, body)| body);
        text = text.trim_end().strip_suffix("```").unwrap_or(text).trim();
    }
    if text.starts_with('{') {
        return Ok(text);
    }
    match (text.find('{'), text.rfind('}')) {
        (Some(start), Some(end)) if start < end => Ok(&text[start..=end]),
        (Some(start), _) => Ok(&text[start..]),
        _ if text.is_empty() => Err(ValidationError::one("the answer is empty; answer with one JSON object")),
        _ => Err(ValidationError::one("the answer contains no JSON object; answer with one JSON object only")),
    }
}

fn from_value(value: &Value) -> Result<GeneratedScenario, ValidationError> {
    let Some(obj) = value.as_object() else {
        return Err(ValidationError::one(format!(
            "the answer must be one JSON object with title, summary, sections and choices, not {}",
            kind(value)
        )));
    };
    let mut problems = Vec::new();
    let title = text_field(obj.get("title"), "title", TITLE_MAX, true, &mut problems);
    let summary = text_field(obj.get("summary"), "summary", SUMMARY_MAX, false, &mut problems);

    let mut sections = Vec::new();
    match obj.get("sections") {
        None | Some(Value::Null) => problems.push(format!("sections: missing; give {}–{} sections", 3, 5)),
        Some(Value::Array(items)) => {
            if !SECTIONS.contains(&items.len()) {
                problems.push(format!("sections: has {}, needs 3 to 5", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                let at = format!("sections[{i}]");
                let Some(section) = item.as_object() else {
                    problems.push(format!("{at}: must be an object with heading and body, not {}", kind(item)));
                    continue;
                };
                let heading =
                    text_field(section.get("heading"), &format!("{at}.heading"), HEADING_MAX, true, &mut problems);
                let body = text_field(section.get("body"), &format!("{at}.body"), BODY_MAX, false, &mut problems);
                if let (Some(heading), Some(body)) = (heading, body) {
                    sections.push(Section { heading, body });
                }
            }
        }
        Some(other) => problems.push(format!("sections: must be an array, not {}", kind(other))),
    }

    let mut choices: Vec<Choice> = Vec::new();
    match obj.get("choices") {
        None | Some(Value::Null) => problems.push("choices: missing; give 2–4 choices".to_string()),
        Some(Value::Array(items)) => {
            if !CHOICES.contains(&items.len()) {
                problems.push(format!("choices: has {}, needs 2 to 4", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                let at = format!("choices[{i}]");
                let fallback_id = (i + 1).to_string();
                let (id, text) = match item {
                    Value::String(_) => (
                        Some(fallback_id),
                        text_field(Some(item), &format!("{at}.text"), CHOICE_TEXT_MAX, true, &mut problems),
                    ),
                    Value::Object(choice) => {
                        let id = choice_id(choice.get("id"), &at, fallback_id, &mut problems);
                        let text =
                            text_field(choice.get("text"), &format!("{at}.text"), CHOICE_TEXT_MAX, true, &mut problems);
                        (id, text)
                    }
                    other => {
                        problems.push(format!("{at}: must be an object with id and text, not {}", kind(other)));
                        (None, None)
                    }
                };
                if let (Some(id), Some(text)) = (id, text) {
                    if choices.iter().any(|c| c.id == id) {
                        problems.push(format!("{at}.id: {id:?} is used twice; choice ids must be unique"));
                    } else {
                        choices.push(Choice { id, text });
                    }
                }
            }
        }
        Some(other) => problems.push(format!("choices: must be an array, not {}", kind(other))),
    }

    match (title, summary) {
        (Some(title), Some(summary)) if problems.is_empty() => {
            let content =
                sections.iter().map(|s| format!("## {}\n\n{}", s.heading, s.body)).collect::<Vec<_>>().join("\n\n");
            Ok(GeneratedScenario { title, summary, sections, choices, content })
        }
        _ => Err(ValidationError { problems }),
    }
}

/// A required, non-empty string of at most `max` characters; `one_line`
/// folds its whitespace into single spaces.
fn text_field(
    value: Option<&Value>,
    at: &str,
    max: usize,
    one_line: bool,
    problems: &mut Vec<String>,
) -> Option<String> {
    let text = match value {
        None | Some(Value::Null) => {
            problems.push(format!("{at}: missing"));
            return None;
        }
        Some(Value::String(s)) => s,
        Some(other) => {
            problems.push(format!("{at}: must be a string, not {}", kind(other)));
            return None;
        }
    };
    let text = if one_line { text.split_whitespace().collect::<Vec<_>>().join(" ") } else { text.trim().to_string() };
    let chars = text.chars().count();
    if chars == 0 {
        problems.push(format!("{at}: must not be empty"));
        None
    } else if chars > max {
        problems.push(format!("{at}: has {chars} characters, at most {max} allowed"));
        None
    } else if text.contains('\0') {
        problems.push(format!("{at}: must not contain NUL characters"));
        None
    } else {
        Some(text)
    }
}

fn choice_id(value: Option<&Value>, at: &str, fallback: String, problems: &mut Vec<String>) -> Option<String> {
    let id = match value {
        None | Some(Value::Null) => return Some(fallback),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            problems.push(format!("{at}.id: must be a short string, not {}", kind(other)));
            return None;
        }
    };
    let ok = !id.is_empty()
        && id.len() <= CHOICE_ID_MAX
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Some(id)
    } else {
        problems.push(format!("{at}.id: {id:?} must be 1–{CHOICE_ID_MAX} letters, digits, '-' or '_'"));
        None
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        serde_json::json!({
            "title": "What if the Moon vanished?",
            "summary": "Tides shrink and nights darken.",
            "sections": [
                {"heading": "The first night", "body": "Darkness."},
                {"heading": "Tides", "body": "Smaller tides."},
                {"heading": "A year later", "body": "Ecosystems adapt."}
            ],
            "choices": [{"id": "a", "text": "Build an artificial moon"}, {"id": "b", "text": "Adapt"}]
        })
    }

    #[test]
    fn a_valid_answer_parses_and_derives_content() {
        let s = parse_model_output(&valid().to_string()).unwrap();
        assert_eq!(s.sections().len(), 3);
        assert_eq!(s.choice("b").map(|c| c.text.as_str()), Some("Adapt"));
        assert!(s.content().starts_with("## The first night\n\nDarkness.\n\n## Tides"));
    }

    #[test]
    fn fences_and_prose_around_the_object_are_tolerated() {
        let fenced = format!("```json\n{}\n```", valid());
        assert!(parse_model_output(&fenced).is_ok());
        let prose = format!("Here is your scenario:\n{}\nEnjoy!", valid());
        assert!(parse_model_output(&prose).is_ok());
    }

    #[test]
    fn every_problem_is_named_with_its_path() {
        let mut v = valid();
        v["sections"][1]["body"] = Value::from("  ");
        v["choices"] = serde_json::json!([{"id": "a", "text": "x"}]);
        v["title"] = Value::from(5);
        let err = parse_model_output(&v.to_string()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("title: must be a string, not a number"), "{text}");
        assert!(text.contains("sections[1].body: must not be empty"), "{text}");
        assert!(text.contains("choices: has 1, needs 2 to 4"), "{text}");
    }

    #[test]
    fn truncated_json_says_it_is_cut_off() {
        let raw = valid().to_string();
        let err = parse_model_output(&raw[..raw.len() / 2]).unwrap_err();
        assert!(err.to_string().contains("cut off"), "{err}");
        assert!(parse_model_output("").unwrap_err().to_string().contains("empty"));
        assert!(parse_model_output("I cannot do that").unwrap_err().to_string().contains("no JSON object"));
    }

    #[test]
    fn choice_ids_are_normalised_and_must_be_unique() {
        let mut v = valid();
        v["choices"] = serde_json::json!([{"id": 1, "text": "x"}, "y", {"text": "z"}]);
        let s = parse_model_output(&v.to_string()).unwrap();
        let ids: Vec<_> = s.choices().iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        v["choices"] = serde_json::json!([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]);
        assert!(parse_model_output(&v.to_string()).unwrap_err().to_string().contains("used twice"));
    }

    #[test]
    fn a_stored_scenario_round_trips_through_serde() {
        let s = parse_model_output(&valid().to_string()).unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["content"], s.content());
        let back: GeneratedScenario = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }
}

/// One value per prompt type, as the data files spell the types (prompt
/// templates, offline text): every type must be present.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PerPromptType<T> {
    default: T,
    historical: T,
    scientific: T,
    social: T,
    fantasy: T,
    #[serde(rename = "sci-fi")]
    sci_fi: T,
    humor: T,
    #[serde(rename = "horror-lite")]
    horror_lite: T,
}

impl<T> PerPromptType<T> {
    pub(crate) fn get(&self, t: PromptType) -> &T {
        match t {
            PromptType::Default => &self.default,
            PromptType::Historical => &self.historical,
            PromptType::Scientific => &self.scientific,
            PromptType::Social => &self.social,
            PromptType::Fantasy => &self.fantasy,
            PromptType::SciFi => &self.sci_fi,
            PromptType::Humor => &self.humor,
            PromptType::HorrorLite => &self.horror_lite,
        }
    }
}
