//! Narration: the text made speakable, its voice chosen, its pieces
//! synthesized (several at once, within the provider's request limit), and
//! the estimate of how long it takes to say.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::ports::speech::{Pcm, SpeechError, SpeechRequest, SpeechSynthesizer, Voice, language_matches};
use whatif_shared::scenarios::store::Scenario;
use whatif_shared::scenarios::types::Language;
use whatif_shared::{ApiError, ApiResult};

use crate::job::Meter;

/// Voices chosen when the request names none, in order of preference (those
/// the provider has): Polly's neural US English voice, espeak-ng's.
const PREFERRED: &[&str] = &["Joanna", "Matthew", "en-us", "vi"];

/// The speaking rate's range.
pub const RATE_RANGE: (f32, f32) = (0.5, 2.0);

/// Words per minute at rate 1 that the estimate assumes, and the pause it
/// adds per sentence: fitted to what espeak-ng's English says at its 175
/// "words per minute" (about 200 of our words, plus a sentence-end pause),
/// within a few per cent on prose. Polly's neural voices speak slower (about
/// 160), so the estimate is low for them by about a fifth.
const ESTIMATE_WORDS_PER_MINUTE: f64 = 200.0;
const ESTIMATE_PAUSE_SECS: f64 = 0.25;

/// Markdown marks a voice should not read out.
pub fn speakable(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !matches!(c, '*' | '_' | '#' | '`' | '~' | '>' | '|')).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A sentence ending: a heading read before its body gets a full stop.
pub fn as_sentence(text: &str) -> String {
    let text = speakable(text);
    match text.chars().last() {
        Some('.' | '!' | '?' | '…' | ':') => text,
        Some(_) => format!("{text}."),
        None => text,
    }
}

/// What a scenario's narration says: its title, then each section's heading and body.
pub fn scenario_text(scenario: &Scenario) -> String {
    let mut parts = vec![as_sentence(&scenario.title)];
    for section in &scenario.sections {
        parts.push(as_sentence(&section.heading));
        parts.push(speakable(&section.body));
    }
    parts.retain(|p| !p.is_empty());
    parts.join("\n")
}

/// The voice to speak with: the one asked for (it must exist, and speak
/// `language_code` when that is given too), else a preferred one of the
/// language. 400 for a voice the provider does not have; 422 when no voice
/// speaks the language.
pub fn choose_voice(
    voices: &[Voice],
    provider: &str,
    asked: Option<&str>,
    language_code: Option<&str>,
    fallback_language: Language,
) -> ApiResult<Voice> {
    if let Some(id) = asked {
        let voice = voices.iter().find(|v| v.id == id).ok_or_else(|| {
            ApiError::validation("options.voice", format!("is not a voice of {provider} (see GET /api/tts/voices)"))
        })?;
        if let Some(lang) = language_code
            && !language_matches(&voice.language_code, lang)
        {
            return Err(ApiError::validation("options.voice", format!("speaks {}, not {lang}", voice.language_code)));
        }
        return Ok(voice.clone());
    }
    let lang = language_code.unwrap_or(fallback_language.as_str());
    let speaking: Vec<&Voice> = voices.iter().filter(|v| language_matches(&v.language_code, lang)).collect();
    let preferred = PREFERRED.iter().find_map(|p| speaking.iter().find(|v| v.id == *p));
    preferred.or(speaking.first()).map(|v| (*v).clone()).ok_or_else(|| {
        ApiError::unprocessable(
            "NO_VOICE",
            format!("{provider} has no voice for the language {lang} (see GET /api/tts/voices)"),
        )
    })
}

/// A speaking rate in range, 1 when not given.
pub fn check_rate(rate: Option<f32>, field: &str) -> ApiResult<f32> {
    let rate = rate.unwrap_or(1.0);
    if !rate.is_finite() || rate < RATE_RANGE.0 || rate > RATE_RANGE.1 {
        return Err(ApiError::validation(field, "must be from 0.5 to 2"));
    }
    Ok(rate)
}

/// Synthesizes `texts` in order, up to the provider's parallelism at once,
/// moving `meter` as they finish. Every piece comes back at one
/// sample rate (a provider's pieces always do; anything else is an error).
pub async fn synthesize_all(
    speech: &Arc<dyn SpeechSynthesizer>,
    voice: &str,
    rate: f32,
    texts: &[String],
    meter: Meter,
) -> Result<Vec<Pcm>, SpeechError> {
    // Each future owns what it uses (a borrowing one is not `Send` for every
    // lifetime, which the job worker's boxed futures need).
    type Synthesis = Pin<Box<dyn Future<Output = Result<Pcm, SpeechError>> + Send>>;
    let requests: Vec<Synthesis> = texts
        .iter()
        .map(|t| {
            let (speech, request) = (speech.clone(), SpeechRequest { text: t.clone(), voice: voice.to_string(), rate });
            Box::pin(async move { speech.synthesize(&request).await }) as Synthesis
        })
        .collect();
    let mut results = futures::stream::iter(requests).buffered(speech.parallelism().max(1));
    let mut out = Vec::with_capacity(texts.len());
    while let Some(pcm) = results.next().await {
        out.push(pcm?);
        meter.at(out.len() as f64, texts.len() as f64);
    }
    if let Some(first) = out.first()
        && out.iter().any(|p| p.sample_rate != first.sample_rate)
    {
        return Err(SpeechError::Unavailable("the provider answered at more than one sample rate".into()));
    }
    Ok(out)
}

/// `POST /api/tts/estimate-duration`'s body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EstimateBody {
    /// At most 20 000 characters.
    #[schemars(length(max = 20000))]
    pub text: String,
    /// 0.5–2 (default 1).
    #[serde(default)]
    #[schemars(range(min = 0.5, max = 2.0))]
    pub speaking_rate: Option<f32>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub seconds: f64,
    pub words: usize,
    pub characters: usize,
}

/// How long `text` takes to say at `rate`: its words at the estimate's
/// speed, plus a pause per sentence.
pub fn estimate_seconds(text: &str, rate: f32) -> f64 {
    let words = text.split_whitespace().count() as f64;
    let sentences = whatif_shared::ports::speech::sentences(text).len() as f64;
    let rate = f64::from(rate.clamp(RATE_RANGE.0, RATE_RANGE.1));
    (words / (ESTIMATE_WORDS_PER_MINUTE * rate / 60.0) + sentences * ESTIMATE_PAUSE_SECS / rate).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(id: &str, lang: &str) -> Voice {
        Voice {
            id: id.into(),
            name: id.into(),
            language_code: lang.into(),
            language_name: String::new(),
            gender: String::new(),
            engine: "formant".into(),
            provider: "espeak-ng".into(),
        }
    }

    #[test]
    fn voices_are_chosen_by_name_or_language() {
        let voices = [voice("en-gb", "en-GB"), voice("en-us", "en-US"), voice("vi", "vi")];
        let pick = |asked, lang| choose_voice(&voices, "espeak-ng", asked, lang, Language::En);
        assert_eq!(pick(None, None).unwrap().id, "en-us", "the preferred English voice");
        assert_eq!(pick(None, Some("vi")).unwrap().id, "vi");
        assert_eq!(pick(Some("en-gb"), Some("en")).unwrap().id, "en-gb");
        assert_eq!(pick(Some("nope"), None).unwrap_err().status, 400);
        assert_eq!(pick(Some("vi"), Some("en")).unwrap_err().status, 400);
        assert_eq!(pick(None, Some("fr")).unwrap_err().code, "NO_VOICE");
    }

    #[test]
    fn rates_out_of_range_are_refused() {
        assert_eq!(check_rate(None, "r").unwrap(), 1.0);
        assert!(check_rate(Some(0.4), "r").is_err());
        assert!(check_rate(Some(2.1), "r").is_err());
        assert!(check_rate(Some(f32::NAN), "r").is_err());
    }

    #[test]
    fn the_estimate_scales_with_words_and_rate() {
        let text = "One two three four five. Six seven eight nine ten.";
        let normal = estimate_seconds(text, 1.0);
        assert!((estimate_seconds(text, 2.0) - normal / 2.0).abs() < 1e-9);
        assert!(normal > 2.5 && normal < 4.0, "{normal}");
        assert_eq!(estimate_seconds("", 1.0), 0.0);
    }

    #[test]
    fn headings_become_sentences_and_markdown_marks_go() {
        assert_eq!(as_sentence("## The **end**"), "The end.");
        assert_eq!(as_sentence("Why?"), "Why?");
    }
}
