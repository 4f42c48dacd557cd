//! `POST /api/video/generate`: a narrated title-card video of a scenario (the
//! caller's own or a public one). Checked here, rendered by the `video` job;
//! 202 with its id and an estimate of the render time.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::credits::Spending;
use whatif_shared::jobs::JobStatus;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId};

use crate::cards::{Resolution, Style};
use crate::narrate::{self, check_rate, choose_voice, estimate_seconds};
use crate::record::{self, Media, MediaKind};
use crate::{speech_unavailable, video_job};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VideoBody {
    #[schemars(regex(pattern = whatif_shared::openapi::ULID_PATTERN))]
    pub scenario_id: String,
    #[serde(default, deserialize_with = "whatif_shared::http::object")]
    pub options: VideoOptions,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VideoOptions {
    /// dark (default), light or sepia.
    #[serde(default)]
    pub style: Option<Style>,
    /// 1280x720 (default), 1920x1080, 720x1280 or 1080x1920.
    #[serde(default)]
    pub resolution: Option<Resolution>,
    /// A voice id from `GET /api/tts/voices` (default: one of the scenario's language).
    #[serde(default)]
    pub voice: Option<String>,
    /// 0.5–2 (default 1).
    #[serde(default)]
    #[schemars(range(min = 0.5, max = 2.0))]
    pub speaking_rate: Option<f32>,
    /// none (default) or ambient: a quiet synthesized pad under the narration.
    #[serde(default)]
    pub music: Option<Music>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Music {
    #[default]
    None,
    Ambient,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoStarted {
    pub video_id: String,
    pub status: JobStatus,
    /// Seconds until it is expected to be ready.
    pub estimated_time: u64,
    /// Seconds the narration is expected to last.
    pub estimated_duration_sec: f64,
    pub poll_url: String,
}

/// Render seconds per second of video, measured (docs/media.md), with room.
const RENDER_FACTOR: f64 = 0.5;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.id();
    let body: VideoBody = req.json()?;
    let options = body.options;
    let rate = check_rate(options.speaking_rate, "options.speakingRate")?;
    let id =
        ScenarioId::parse(&body.scenario_id).map_err(|_| ApiError::validation("scenarioId", "is not a valid id"))?;
    let scenario = store::get_visible(&ctx, Some(&user), &id).await?;
    let voices = ctx.speech.voices(None).await.map_err(speech_unavailable)?;
    let voice = choose_voice(&voices, ctx.speech.provider(), options.voice.as_deref(), None, scenario.language)?;
    let (resolution, style, music) =
        (options.resolution.unwrap_or_default(), options.style.unwrap_or_default(), options.music.unwrap_or_default());
    let video_id = ctx.ids.ulid().to_string();
    let media = Media {
        id: video_id.clone(),
        kind: MediaKind::Video,
        user_id: user.to_string(),
        scenario_id: Some(id.to_string()),
        title: scenario.title.clone(),
        options: json!({
            "style": style, "resolution": resolution, "voice": voice.id, "speakingRate": rate,
            "music": music, "provider": ctx.speech.provider(),
        }),
        created_at: rfc3339(ctx.clock.now()),
        files: Default::default(),
        duration_sec: None,
        size_bytes: None,
    };
    let input = json!({
        "scenarioId": id.to_string(), "voice": voice.id, "speakingRate": rate,
        "resolution": resolution, "style": style, "music": music,
    });
    let job = record::create_queued(&ctx, &media, video_job::KIND, input, Spending::Video).await?;
    let narration = estimate_seconds(&narrate::scenario_text(&scenario), rate)
        + video_job::CARD_PAUSE_SECS * scenario.sections.len() as f64;
    Ok(Reply::accepted(VideoStarted {
        poll_url: format!("/api/video/{video_id}/status"),
        video_id,
        status: job.status,
        estimated_time: (5.0 + narration * RENDER_FACTOR).ceil() as u64,
        estimated_duration_sec: (narration * 10.0).round() / 10.0,
    }))
}
