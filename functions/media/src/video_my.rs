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
    let media: Vec<_> = videos.drain(start..end).collect();
    let states = record::states(&ctx, &media).await?;
    let page: Vec<VideoAnswer> = media.into_iter().zip(states).map(|(m, s)| VideoAnswer::new(m, s)).collect();
    Ok(Reply::ok(MyVideos { videos: page, pagination: Pagination::new(paging.page, paging.limit, total as u64) }))
}
