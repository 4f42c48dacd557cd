//! `GET /api/video/my`: the caller's videos, newest first, with their status;
//! `page`/`limit`.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination};
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::record::{self, MediaKind};
use crate::video_status::VideoAnswer;

#[derive(Debug, Serialize, JsonSchema)]
pub struct MyVideos {
    pub videos: Vec<VideoAnswer>,
    pub pagination: Pagination,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let owner = req.user()?.id();
    let paging = PageRequest::from_request(&req)?;
    let mut videos = record::all_of(&ctx, &owner).await?;
    videos.retain(|m| m.kind == MediaKind::Video);
    let total = videos.len();
    let start = paging.offset().min(total);
    let end = (start + paging.limit as usize).min(total);
    let mut page = Vec::with_capacity(end - start);
    for media in videos.drain(start..end) {
        let state = record::state(&ctx, &media).await?;
        page.push(VideoAnswer::new(media, state));
    }
    Ok(Reply::ok(MyVideos { videos: page, pagination: Pagination::new(paging.page, paging.limit, total as u64) }))
}
