//! `GET /api/tts/{audioId}`: a narration's status for its owner (404 for
//! anyone else) and, once done, a link to its file valid 15 minutes.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::JobStatus;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::record::{self, MediaKind};
use crate::{DOWNLOAD_TTL, download_name};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AudioAnswer {
    pub audio_id: String,
    pub status: JobStatus,
    pub progress: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The voice, language, rate, pitch, format and provider it was made with.
    pub options: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// The file, once `succeeded` (valid until `expiresAt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub created_at: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("audioId")?.to_string();
    let (media, state) = record::get_owned_with_state(&ctx, &req.user()?.id(), &id, MediaKind::Audio).await?;
    let (mut url, mut expires_at) = (None, None);
    if state.status == JobStatus::Succeeded
        && let Some(key) = media.file("audio")
    {
        let extension = key.rsplit('.').next().unwrap_or("mp3");
        let signed = ctx.blobs.presign_get(key, DOWNLOAD_TTL, Some(&download_name(&media.title, extension))).await?;
        url = Some(signed.url);
        expires_at = Some(rfc3339(signed.expires_at));
    }
    Ok(Reply::ok(AudioAnswer {
        audio_id: media.id,
        status: state.status,
        progress: state.progress,
        error: state.error,
        duration_sec: media.duration_sec,
        size_bytes: media.size_bytes,
        options: media.options,
        scenario_id: media.scenario_id,
        url,
        expires_at,
        created_at: media.created_at,
    }))
}
