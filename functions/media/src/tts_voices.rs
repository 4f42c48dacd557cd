//! `GET /api/tts/voices`: the speech provider's real voices, of one language
//! with `languageCode` (`en` matches `en-US`, `en-GB`, ...). Polly has no
//! Vietnamese voice: with `languageCode=vi` in AWS the list is empty and
//! `note` says so (espeak-ng, locally, has three).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::ports::speech::Voice;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::speech_unavailable;
use crate::tts_generate::check_language_code;

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoicesAnswer {
    /// `polly` or `espeak-ng`.
    pub provider: String,
    pub voices: Vec<Voice>,
    /// Set when no voice speaks the language asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let language = match req.query_param("languageCode") {
        None => None,
        Some(raw) => Some(check_language_code(raw, "languageCode")?),
    };
    let voices = ctx.speech.voices(language.as_deref()).await.map_err(speech_unavailable)?;
    let provider = ctx.speech.provider().to_string();
    let note = match &language {
        Some(lang) if voices.is_empty() => Some(format!("{provider} has no voice for {lang}")),
        _ => None,
    };
    Ok(Reply::ok(VoicesAnswer { provider, voices, note }).header(http::header::CACHE_CONTROL, "public, max-age=300"))
}
