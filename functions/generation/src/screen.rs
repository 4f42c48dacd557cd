//! Topic screening, before any model call, and the same screen over the
//! model's output.
//!
//! A blocklist of terms (a word or a phrase): a small built-in list of
//! clearly harmful requests, plus `WHATIF_BLOCKED_TERMS` (comma separated).
//! Matching ignores case and accents (`Bôm` matches `bom`) and works on whole
//! words: a term matches where its words appear in a row in the text
//! (`bomb` does not match `bombastic`, `make a bomb` matches `Make  a BOMB!`).
//!
//! A match gives a [`Blocked`] with a reason fit to show the user; the route
//! answers 422 (`ApiError::from`).

use std::collections::HashMap;

use whatif_shared::ApiError;
use whatif_shared::text::words;

use crate::scenario::GeneratedScenario;

/// The variable that adds terms to the built-in list.
pub const BLOCKED_TERMS_VAR: &str = "WHATIF_BLOCKED_TERMS";

/// The built-in list: (category shown to the user, terms). English and Vietnamese.
/// Phrases, not single words: matching ignores accents, and many Vietnamese
/// words differ only by them (`tự tử` "suicide" folds like `từ từ` "slowly").
const DEFAULTS: &[(&str, &[&str])] = &[
    (
        "instructions for weapons or explosives",
        &[
            "how to make a bomb",
            "how to build a bomb",
            "make a pipe bomb",
            "build a pipe bomb",
            "make explosives at home",
            "synthesize sarin",
            "make nerve agent",
            "make a bioweapon",
            "build a bioweapon",
            "weaponize anthrax",
            "chế tạo bom",
            "cách làm bom",
        ],
    ),
    (
        "sexual content involving minors",
        &["child porn", "child pornography", "csam", "sexualize children", "khiêu dâm trẻ em"],
    ),
    (
        "instructions for self-harm",
        &["how to kill myself", "best way to commit suicide", "suicide method", "cách tự sát", "hướng dẫn tự sát"],
    ),
    (
        "planning violence against people",
        &["plan a mass shooting", "plan a terrorist attack", "how to poison someone", "lên kế hoạch khủng bố"],
    ),
    ("instructions for making drugs", &["how to cook meth", "synthesize methamphetamine", "cách nấu ma túy đá"]),
];

const CUSTOM_CATEGORY: &str = "a blocked term";

/// Why a text was refused: a category, fit to show the user (never the
/// configured term itself, which may be private to the operator).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Blocked {
    pub reason: String,
    /// The request's `topic` or `customChoice`, or the model's output.
    pub field: &'static str,
    /// True when the model's output was refused (not the request).
    pub output: bool,
}

impl From<Blocked> for ApiError {
    /// 422 `CONTENT_BLOCKED`, naming the field and the reason.
    fn from(blocked: Blocked) -> Self {
        if blocked.output {
            ApiError::unprocessable(
                "CONTENT_BLOCKED",
                format!("The generated scenario was withheld: it contains {}", blocked.reason),
            )
        } else {
            ApiError::unprocessable(
                "CONTENT_BLOCKED",
                format!("This cannot be generated: it asks for {}", blocked.reason),
            )
            .with_field(blocked.field, format!("asks for {}", blocked.reason))
        }
    }
}

/// The blocklist, normalised once (build it once per cold start).
#[derive(Debug, Clone)]
pub struct Screen {
    /// Each term as its normalised words, with its category.
    terms: Vec<(Vec<String>, String)>,
}

impl Default for Screen {
    /// The built-in list alone.
    fn default() -> Self {
        Screen::new(&[])
    }
}

impl Screen {
    /// The built-in list plus `extra` terms.
    pub fn new(extra: &[&str]) -> Self {
        let mut terms = Vec::new();
        for (category, list) in DEFAULTS {
            for term in *list {
                push_term(&mut terms, term, category);
            }
        }
        for term in extra {
            push_term(&mut terms, term, CUSTOM_CATEGORY);
        }
        Screen { terms }
    }

    /// The built-in list plus the terms of `WHATIF_BLOCKED_TERMS` in `env`.
    pub fn from_env(env: &HashMap<String, String>) -> Self {
        let extra: Vec<&str> = env.get(BLOCKED_TERMS_VAR).map(|v| v.split(',').collect()).unwrap_or_default();
        Screen::new(&extra)
    }

    /// The category of the first term found in `text`, if any.
    pub fn find(&self, text: &str) -> Option<&str> {
        let words = words(text);
        self.terms
            .iter()
            .find(|(term, _)| words.windows(term.len()).any(|window| window == term.as_slice()))
            .map(|(_, category)| category.as_str())
    }

    /// Screens a request's text (`field` is `topic` or `customChoice`).
    pub fn check(&self, field: &'static str, text: &str) -> Result<(), Blocked> {
        match self.find(text) {
            Some(category) => Err(Blocked { reason: category.to_string(), field, output: false }),
            None => Ok(()),
        }
    }

    /// Screens every text of a model's scenario.
    pub fn check_output(&self, scenario: &GeneratedScenario) -> Result<(), Blocked> {
        let mut texts = vec![scenario.title(), scenario.summary()];
        for section in scenario.sections() {
            texts.push(&section.heading);
            texts.push(&section.body);
        }
        texts.extend(scenario.choices().iter().map(|c| c.text.as_str()));
        match texts.into_iter().find_map(|t| self.find(t)) {
            Some(category) => Err(Blocked { reason: category.to_string(), field: "scenario", output: true }),
            None => Ok(()),
        }
    }
}

fn push_term(terms: &mut Vec<(Vec<String>, String)>, term: &str, category: &str) {
    let words = words(term);
    if !words.is_empty() && !terms.iter().any(|(t, _)| *t == words) {
        terms.push((words, category.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_match_whole_words_case_and_accent_insensitively() {
        let screen = Screen::new(&["zorblax", "red  Lantern"]);
        assert!(screen.find("What if ZÖRBLAX ruled?").is_some());
        assert!(screen.find("what if the Red lantern, lit").is_some());
        assert!(screen.find("zorblaxes everywhere").is_none(), "a whole word only");
        assert!(screen.find("red lanterns").is_none());
        assert!(screen.find("What if I knew HOW TO MAKE A BOMB?").is_some());
        assert!(screen.find("Nếu tôi biết cách làm bom thì sao").is_some());
        assert!(screen.find("What if bombastic speeches were banned?").is_none());
        assert!(screen.find("Nếu biết cách từ từ thay đổi thế giới thì sao?").is_none());
    }

    #[test]
    fn the_variable_adds_terms_and_ignores_blanks() {
        let env = HashMap::from([(BLOCKED_TERMS_VAR.to_string(), " foo bar , ,baz".to_string())]);
        let screen = Screen::from_env(&env);
        assert_eq!(screen.find("the FOO bar"), Some(CUSTOM_CATEGORY));
        assert_eq!(screen.find("Baz!"), Some(CUSTOM_CATEGORY));
        assert_eq!(screen.find("foo"), None);
    }
}
