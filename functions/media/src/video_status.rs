//! `GET /api/video/{videoId}/status`: a video's status and progress, for its
//! owner only (404 for anyone else).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::JobStatus;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::record::{self, Media, MediaKind, State};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoAnswer {
    pub video_id: String,
    /// queued → running → succeeded, failed or cancelled.
    pub status: JobStatus,
    /// 0–100, from the narration's synthesis and ffmpeg's own progress.
    pub progress: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    pub title: String,
    /// Style, resolution, voice, rate, music and provider.
    pub options: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    pub created_at: String,
    pub updated_at: String,
}

impl VideoAnswer {
    pub fn new(media: Media, state: State) -> Self {
        Self {
            video_id: media.id,
            status: state.status,
            progress: state.progress,
            duration_sec: media.duration_sec,
            error: state.error,
            scenario_id: media.scenario_id,
            title: media.title,
            options: media.options,
            size_bytes: media.size_bytes,
            created_at: media.created_at,
            updated_at: state.updated_at,
        }
    }
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("videoId")?.to_string();
    let (media, state) = record::get_owned_with_state(&ctx, &req.user()?.id(), &id, MediaKind::Video).await?;
    Ok(Reply::ok(VideoAnswer::new(media, state)))
}
