//! `GET /api/video/providers`: the renderer and the speech provider this
//! deployment uses, and what they offer.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::audio::AudioFormat;
use crate::cards::{Resolution, Style};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Providers {
    pub renderers: Vec<Renderer>,
    pub speech: Vec<SpeechProvider>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Renderer {
    pub id: String,
    pub resolutions: Vec<Resolution>,
    pub styles: Vec<Style>,
    pub music: Vec<crate::video_generate::Music>,
    pub frame_rate: u32,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpeechProvider {
    /// `polly` (AWS) or `espeak-ng` (local).
    pub id: String,
    /// The most text one synthesis request takes; longer text is split.
    pub max_request_bytes: usize,
    pub formats: Vec<AudioFormat>,
    /// Where the list of its voices is.
    pub voices_url: String,
}

pub async fn handle(ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    use crate::video_generate::Music;
    Ok(Reply::ok(Providers {
        renderers: vec![Renderer {
            id: "ffmpeg".into(),
            resolutions: vec![Resolution::Hd, Resolution::FullHd, Resolution::HdPortrait, Resolution::FullHdPortrait],
            styles: vec![Style::Dark, Style::Light, Style::Sepia],
            music: vec![Music::None, Music::Ambient],
            frame_rate: crate::video_job::FPS,
        }],
        speech: vec![SpeechProvider {
            id: ctx.speech.provider().into(),
            max_request_bytes: ctx.speech.max_request_bytes(),
            formats: vec![AudioFormat::Mp3, AudioFormat::Ogg, AudioFormat::Wav],
            voices_url: "/api/tts/voices".into(),
        }],
    }))
}
