//! `GET /api/feed/latest`: the newest public posts and public scenarios, for
//! anyone (no token is read, so `isLiked` is false). One query of the public
//! feed's partition and one batch read for the authors per page; the cursor
//! neither skips nor repeats while new entries arrive.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::pagination::PageRequest;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::feeds;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let paging = PageRequest::from_request(&req)?;
    let tags = feeds::tags_param(&req)?;
    Ok(Reply::ok(feeds::latest(&ctx, None, &paging, &tags).await?))
}
