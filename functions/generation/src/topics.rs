//! Curated topics for `GET /api/random`, per language and promptType, in
//! `topics/*.json` (six per pair; every pair must have some).

use std::sync::LazyLock;

use crate::scenario::{Language, PerPromptType, PromptType, Topic};

const SOURCES: [(Language, &str); 2] =
    [(Language::En, include_str!("../topics/en.json")), (Language::Vi, include_str!("../topics/vi.json"))];

/// One language's topics, by promptType.
type Topics = PerPromptType<Vec<Topic>>;

static TOPICS: LazyLock<Result<Vec<(Language, Topics)>, String>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(language, source)| {
            let topics: Topics =
                serde_json::from_str(source).map_err(|e| format!("topics/{language}.json does not parse: {e}"))?;
            if PromptType::ALL.iter().any(|t| topics.get(*t).is_empty()) {
                return Err(format!("topics/{language}.json: a prompt type has no topics"));
            }
            Ok((*language, topics))
        })
        .collect()
});

/// The curated topics of `language` and `prompt_type`.
pub fn curated(language: Language, prompt_type: PromptType) -> Result<&'static [Topic], String> {
    let all = TOPICS.as_ref().map_err(Clone::clone)?;
    let (_, topics) = all.iter().find(|(l, _)| *l == language).ok_or_else(|| format!("no topics in {language}"))?;
    Ok(topics.get(prompt_type))
}

/// One of them, picked by `pick` (any number; it is reduced modulo the count).
pub fn pick(language: Language, prompt_type: PromptType, pick: u64) -> Result<Topic, String> {
    let topics = curated(language, prompt_type)?;
    Ok(topics[(pick % topics.len() as u64) as usize].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_and_type_has_topics_that_detect_as_their_language() {
        for language in [Language::En, Language::Vi] {
            for prompt_type in PromptType::ALL {
                let topics = curated(language, prompt_type).unwrap();
                assert!(topics.len() >= 5, "{language} {prompt_type}");
                for topic in topics {
                    assert_eq!(Language::detect(topic.as_str()), language, "{topic}");
                }
            }
        }
        assert_eq!(
            pick(Language::En, PromptType::Humor, 6).unwrap(),
            pick(Language::En, PromptType::Humor, 0).unwrap()
        );
    }
}
