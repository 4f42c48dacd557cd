//! `POST /api/tts/generate`: a narration of up to 20 000 characters of text,
//! or of a scenario (its title, then each section; the caller's own or a
//! public one). Checked here (voice, rate, pitch, format), made by the `tts`
//! job; 202 with its id.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::credits::Spending;
use whatif_shared::jobs::JobStatus;
use whatif_shared::scenarios::store;
use whatif_shared::scenarios::types::Language;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId};

use crate::audio::{AudioFormat, PITCH_RANGE};
use crate::narrate::{self, check_rate, choose_voice, estimate_seconds};
use crate::record::{self, Media, MediaKind};
use crate::{speech_unavailable, tts_job};

/// The longest text a narration takes.
pub const MAX_TEXT_CHARS: usize = 20_000;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TtsBody {
    /// What to say: 1–20 000 characters. Give this or `scenarioId`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 20000))]
    pub text: Option<String>,
    /// A scenario to narrate (yours, or a public one).
    #[serde(default)]
    #[schemars(regex(pattern = whatif_shared::openapi::ULID_PATTERN))]
    pub scenario_id: Option<String>,
    #[serde(default, deserialize_with = "whatif_shared::http::object")]
    pub options: TtsOptions,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TtsOptions {
    /// A voice id from `GET /api/tts/voices` (default: one of the language's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// BCP 47, e.g. `en-US`, `vi` (default: the text's or scenario's language).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 35), regex(pattern = LANGUAGE_CODE_PATTERN))]
    pub language_code: Option<String>,
    /// 0.5–2 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.5, max = 2.0))]
    pub speaking_rate: Option<f32>,
    /// Semitones, −20 to 20 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -20.0, max = 20.0))]
    pub pitch: Option<f32>,
    /// mp3 (default), ogg or wav.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AudioFormat>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TtsStarted {
    pub audio_id: String,
    pub status: JobStatus,
    /// Seconds the narration is expected to last.
    pub estimated_duration_sec: f64,
    /// `GET` it for the status and, when done, the file.
    pub poll_url: String,
}

/// A language code as BCP 47 allows it here: a 2–3 letter language and
/// optional subtags of letters and digits.
/// A language code as [`check_language_code`] takes it, for the document.
pub const LANGUAGE_CODE_PATTERN: &str = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$";

pub fn check_language_code(code: &str, field: &str) -> ApiResult<String> {
    let ok = code.len() <= 35 && {
        let mut parts = code.split('-');
        let lang = parts.next().unwrap_or_default();
        (2..=3).contains(&lang.len())
            && lang.chars().all(|c| c.is_ascii_alphabetic())
            && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    };
    if ok {
        Ok(code.to_string())
    } else {
        Err(ApiError::validation(field, "is not a language code such as en-US or vi"))
    }
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.id();
    let body: TtsBody = req.json()?;
    let options = body.options;
    let rate = check_rate(options.speaking_rate, "options.speakingRate")?;
    let pitch = options.pitch.unwrap_or(0.0);
    if !pitch.is_finite() || pitch < PITCH_RANGE.0 || pitch > PITCH_RANGE.1 {
        return Err(ApiError::validation("options.pitch", "must be from -20 to 20 (semitones)"));
    }
    let language_code =
        options.language_code.as_deref().map(|l| check_language_code(l, "options.languageCode")).transpose()?;
    let (text, title, scenario_id, language) = match (body.text, body.scenario_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation("text", "give either text or scenarioId, not both"));
        }
        (None, None) => return Err(ApiError::validation("text", "is required (or scenarioId)")),
        (Some(text), None) => {
            let text = text.trim().to_string();
            if text.is_empty() {
                return Err(ApiError::validation("text", "must not be empty"));
            }
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                return Err(ApiError::validation(
                    "text",
                    format!("must be at most {MAX_TEXT_CHARS} characters (it has {chars})"),
                ));
            }
            let title: String = text.split_whitespace().take(8).collect::<Vec<_>>().join(" ");
            let language = Language::detect(&text);
            (text, title, None, language)
        }
        (None, Some(raw)) => {
            let id = ScenarioId::parse(&raw).map_err(|_| ApiError::validation("scenarioId", "is not a valid id"))?;
            let scenario = store::get_visible(&ctx, Some(&user), &id).await?;
            (narrate::scenario_text(&scenario), scenario.title.clone(), Some(id.to_string()), scenario.language)
        }
    };
    let voices = ctx.speech.voices(None).await.map_err(speech_unavailable)?;
    let voice =
        choose_voice(&voices, ctx.speech.provider(), options.voice.as_deref(), language_code.as_deref(), language)?;
    let format = options.format.unwrap_or_default();
    let id = ctx.ids.ulid().to_string();
    let media = Media {
        id: id.clone(),
        kind: MediaKind::Audio,
        user_id: user.to_string(),
        scenario_id,
        title,
        options: json!({
            "voice": voice.id, "languageCode": voice.language_code, "speakingRate": rate,
            "pitch": pitch, "format": format, "provider": ctx.speech.provider(),
        }),
        created_at: rfc3339(ctx.clock.now()),
        files: Default::default(),
        duration_sec: None,
        size_bytes: None,
    };
    let input = json!({"text": text, "voice": voice.id, "speakingRate": rate, "pitch": pitch, "format": format});
    let job = record::create_queued(&ctx, &media, tts_job::KIND, input, Spending::Narration).await?;
    let estimated = (estimate_seconds(&text, rate) * 10.0).round() / 10.0;
    Ok(Reply::accepted(TtsStarted {
        poll_url: format!("/api/tts/{id}"),
        audio_id: id,
        status: job.status,
        estimated_duration_sec: estimated,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_are_checked() {
        for good in ["en", "en-US", "vi", "cmn-CN", "en-GB-scotland"] {
            assert!(check_language_code(good, "l").is_ok(), "{good}");
        }
        for bad in ["", "e", "english", "en_US", "en--US", "12"] {
            assert!(check_language_code(bad, "l").is_err(), "{bad}");
        }
    }
}
