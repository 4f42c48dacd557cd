//! `GET /api/social/posts/feed?type=latest|trending|following`: the feeds
//! of `feeds.rs` for the posts page. `latest` (default) and `trending` work
//! signed in or not; `following` needs a caller (401 otherwise). `tags`
//! (comma-separated) keeps entries with any of them; each post says
//! whether the caller liked it.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::pagination::PageRequest;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::feeds::{self, Timeframe};

pub const TYPES: &[&str] = &["latest", "trending", "following"];

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let paging = PageRequest::from_request(&req)?;
    let tags = feeds::tags_param(&req)?;
    let timeframe = Timeframe::parse(req.query_param("timeframe"))?;
    let viewer = req.principal.as_ref().map(|p| p.id());
    let page = match req.query_param("type").unwrap_or("latest") {
        "latest" => feeds::latest(&ctx, viewer.as_ref(), &paging, &tags).await?,
        "trending" => feeds::trending(&ctx, viewer.as_ref(), timeframe, &paging, &tags).await?,
        "following" => {
            let viewer = viewer.ok_or_else(|| ApiError::unauthorized("Sign in to see the accounts you follow"))?;
            feeds::following(&ctx, &viewer, &paging, &tags).await?
        }
        _ => return Err(ApiError::validation("type", "must be one of: latest, trending, following")),
    };
    Ok(Reply::ok(page))
}
