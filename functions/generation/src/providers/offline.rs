//! The offline provider: no network, no key. It writes a real, readable
//! scenario from curated templates (`offline/en.json`, `offline/vi.json`):
//! per prompt type a set of titles, a summary, five section headings with
//! their story beats, and four choices; per language the paragraphs that
//! deepen medium and long scenarios. The topic becomes the premise ("What if
//! the Moon vanished?" → "the Moon vanished") that the templates are written
//! around.
//!
//! Deterministic: the same seed ([`ScenarioSpec::seed`], from the topic and
//! options) gives the same scenario. It answers with the scenario's JSON, so
//! the chain validates it like any model's.

use std::sync::LazyLock;

use async_trait::async_trait;
use serde::Deserialize;

use crate::provider::{ModelOutput, ModelRequest, ProviderError, ScenarioModel, TokenUsage};
use crate::scenario::{
    Choice, GeneratedScenario, Language, Length, ParentContext, PerPromptType, PromptType, ScenarioSpec, Section,
};

const NAME: &str = "offline";

/// The offline provider; its model is [`Offline::MODEL`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Offline;

impl Offline {
    pub const MODEL: &'static str = "whatif-offline-1";

    /// The scenario for `spec` (continuing `parent` when given), the same for the same seed.
    pub fn compose(
        spec: &ScenarioSpec,
        parent: Option<&ParentContext>,
        seed: u64,
    ) -> Result<GeneratedScenario, ProviderError> {
        let pack = pack(spec.language)?;
        let style = pack.types.get(spec.prompt_type);
        let mut rng = SplitMix64(seed);
        let premise = premise(spec.topic.as_str(), pack);
        let short_premise = clip(&premise, 100);
        let fill = |template: &str, premise: &str| {
            template.replace("{premise}", premise).replace("{Premise}", &capitalise(premise))
        };

        let title = match parent {
            Some(parent) => clip(parent.choice.trim().trim_end_matches(['.', '!', '?', '。']), 150),
            None => fill(&style.titles[rng.below(style.titles.len())], &short_premise),
        };
        let mut summary = String::new();
        if let Some(parent) = parent {
            summary.push_str(
                &pack
                    .continuation_summary
                    .replace("{parentTitle}", &clip(&parent.title, 100))
                    .replace("{choice}", &clip(parent.choice.trim().trim_end_matches('.'), 150)),
            );
        }
        summary.push_str(&fill(&style.summary, &premise));

        let picked: Vec<usize> = match spec.length {
            Length::Short => vec![0, 1 + rng.below(3), 4],
            Length::Medium => {
                let skip = 1 + rng.below(3);
                [0, 1, 2, 3, 4].into_iter().filter(|&i| i != skip).collect()
            }
            Length::Long => vec![0, 1, 2, 3, 4],
        };
        let sections = picked
            .into_iter()
            .map(|i| {
                let mut body = fill(&style.beats[i], &premise);
                if spec.length != Length::Short {
                    body.push_str("\n\n");
                    body.push_str(&pack.more[i]);
                }
                Section { heading: style.headings[i].clone(), body }
            })
            .collect();

        let count = match spec.length {
            Length::Short => 2 + rng.below(2),
            Length::Medium => 3,
            Length::Long => 3 + rng.below(2),
        };
        let mut order = [0usize, 1, 2, 3];
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let choices = order
            .iter()
            .take(count)
            .zip(["a", "b", "c", "d"])
            .map(|(&i, id)| Choice { id: id.to_string(), text: style.choices[i].clone() })
            .collect();

        GeneratedScenario::new(&title, &summary, sections, choices)
            .map_err(|e| ProviderError::Malformed(format!("offline templates made an invalid scenario: {e}")))
    }
}

#[async_trait]
impl ScenarioModel for Offline {
    fn name(&self) -> &str {
        NAME
    }

    async fn generate(&self, req: &ModelRequest) -> Result<ModelOutput, ProviderError> {
        let scenario = Offline::compose(&req.spec, req.parent.as_ref(), req.seed)?;
        Ok(ModelOutput {
            text: scenario.to_model_json().to_string(),
            model: Offline::MODEL.to_string(),
            usage: TokenUsage::default(),
        })
    }
}

// ---- the templates --------------------------------------------------------------

const SOURCES: [(Language, &str); 2] =
    [(Language::En, include_str!("../../offline/en.json")), (Language::Vi, include_str!("../../offline/vi.json"))];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Pack {
    language: String,
    /// Openings of a question that are not part of its premise, longest first.
    prefixes: Vec<String>,
    /// Endings likewise ("thì sao").
    suffixes: Vec<String>,
    /// First words that are lowercased inside a sentence ("The", "Con").
    lowercase_starts: Vec<String>,
    continuation_summary: String,
    more: [String; 5],
    types: PerPromptType<Style>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Style {
    titles: Vec<String>,
    summary: String,
    headings: [String; 5],
    beats: [String; 5],
    choices: [String; 4],
}

static PACKS: LazyLock<Result<Vec<(Language, Pack)>, String>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(language, source)| {
            let pack: Pack =
                serde_json::from_str(source).map_err(|e| format!("offline/{language}.json does not parse: {e}"))?;
            if pack.language != language.as_str() {
                return Err(format!("offline/{language}.json says language {:?}", pack.language));
            }
            if pack.types_iter().any(|s| s.titles.is_empty()) {
                return Err(format!("offline/{language}.json: a prompt type has no titles"));
            }
            Ok((*language, pack))
        })
        .collect()
});

impl Pack {
    fn types_iter(&self) -> impl Iterator<Item = &Style> {
        PromptType::ALL.into_iter().map(|t| self.types.get(t))
    }
}

fn pack(language: Language) -> Result<&'static Pack, ProviderError> {
    let packs = PACKS.as_ref().map_err(|e| ProviderError::Malformed(e.clone()))?;
    packs
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, p)| p)
        .ok_or_else(|| ProviderError::Malformed(format!("no offline templates for {language}")))
}

/// The premise of a question: without "what if" / "nếu ... thì sao" and the
/// question mark, its first word lowercased when it is a common one.
fn premise(topic: &str, pack: &Pack) -> String {
    let trim_end = |s: &str| {
        s.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | '.' | '…' | ',' | '？')).to_string()
    };
    let mut text = trim_end(topic.trim());
    if let Some(rest) = pack.prefixes.iter().find_map(|p| strip_prefix_ci(&text, p)) {
        text = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',').to_string();
    }
    if let Some(rest) = pack.suffixes.iter().find_map(|s| strip_suffix_ci(&text, s)) {
        text = trim_end(rest);
    }
    if text.chars().count() < 2 {
        return trim_end(topic.trim());
    }
    let first_word = text.split_whitespace().next().unwrap_or_default();
    if pack.lowercase_starts.iter().any(|w| w == first_word) {
        let mut chars = text.chars();
        if let Some(first) = chars.next() {
            text = first.to_lowercase().chain(chars).collect();
        }
    }
    text
}

/// `text` without `prefix` (any case), when the prefix ends at a word boundary.
fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let mut rest = text.char_indices();
    for p in prefix.chars() {
        let (_, c) = rest.next()?;
        if !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
    }
    let remainder = rest.as_str();
    remainder.starts_with(|c: char| c.is_whitespace() || c == ',').then_some(remainder)
}

fn strip_suffix_ci<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let mut rest = text.char_indices();
    for s in suffix.chars().rev() {
        let (_, c) = rest.next_back()?;
        if !c.to_lowercase().eq(s.to_lowercase()) {
            return None;
        }
    }
    let remainder = rest.as_str();
    remainder.ends_with(|c: char| c.is_whitespace() || c == ',').then_some(remainder)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// At most `max` characters, cut at a word and marked with an ellipsis.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(at) if at > cut.len() / 2 => &cut[..at],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches(|c: char| c.is_whitespace() || c == ','))
}

/// SplitMix64: small, fast, and the same on every platform.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premises_lose_the_question_around_them() {
        let en = pack(Language::En).unwrap();
        assert_eq!(premise("What if the Roman Empire never fell?", en), "the Roman Empire never fell");
        assert_eq!(premise("what would happen if, say, cats could talk", en), "say, cats could talk");
        assert_eq!(premise("Humans could photosynthesize", en), "humans could photosynthesize");
        assert_eq!(premise("Napoleon won at Waterloo?", en), "Napoleon won at Waterloo");
        assert_eq!(premise("What if?", en), "What if");
        assert_eq!(premise("Whatever happened", en), "Whatever happened");
        let vi = pack(Language::Vi).unwrap();
        assert_eq!(premise("Nếu con người có thể bay thì sao?", vi), "con người có thể bay");
        assert_eq!(premise("Điều gì sẽ xảy ra nếu Trái Đất ngừng quay?", vi), "Trái Đất ngừng quay");
    }

    #[test]
    fn long_text_is_clipped_at_a_word() {
        assert_eq!(clip("short", 10), "short");
        let clipped = clip("one two three four five six", 12);
        assert_eq!(clipped, "one two…");
        assert!(clipped.chars().count() <= 12);
    }
}
