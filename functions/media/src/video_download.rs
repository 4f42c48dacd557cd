//! `GET /api/video/{videoId}/download`: for its owner (404 for anyone else),
//! a 302 to a link valid 15 minutes, or `{url, subtitlesUrl, expiresAt}`
//! with `?redirect=false`; `?file=subtitles` sends the WebVTT file instead.
//! 409 until the video is ready.

use std::sync::Arc;

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::JobStatus;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::record::{self, MediaKind};
use crate::{DOWNLOAD_TTL, download_name};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DownloadAnswer {
    /// The file asked for (the video unless `file=subtitles`).
    pub url: String,
    pub subtitles_url: String,
    pub expires_at: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("videoId")?.to_string();
    let redirect = match req.query_param("redirect") {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(ApiError::validation("redirect", "must be true or false")),
    };
    let subtitles_only = match req.query_param("file") {
        None | Some("video") => false,
        Some("subtitles") => true,
        Some(_) => return Err(ApiError::validation("file", "must be video or subtitles")),
    };
    let (media, state) = record::get_owned_with_state(&ctx, &req.user()?.id(), &id, MediaKind::Video).await?;
    let (Some(video), Some(subtitles)) = (media.file("video"), media.file("subtitles")) else {
        return Err(not_ready(state.status));
    };
    if state.status != JobStatus::Succeeded {
        return Err(not_ready(state.status));
    }
    let video_url = ctx.blobs.presign_get(video, DOWNLOAD_TTL, Some(&download_name(&media.title, "mp4"))).await?;
    let vtt_url = ctx.blobs.presign_get(subtitles, DOWNLOAD_TTL, Some(&download_name(&media.title, "vtt"))).await?;
    let url = if subtitles_only { vtt_url.url.clone() } else { video_url.url.clone() };
    if redirect {
        return Ok(
            Reply::bytes(StatusCode::FOUND, "text/plain; charset=utf-8", "").header(http::header::LOCATION, &url)
        );
    }
    Ok(Reply::ok(DownloadAnswer { url, subtitles_url: vtt_url.url, expires_at: rfc3339(video_url.expires_at) }))
}

fn not_ready(status: JobStatus) -> ApiError {
    let word = serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    ApiError::conflict("VIDEO_NOT_READY", format!("The video is not ready (it is {word})"))
}
