//! `GET /api/feed/trending?timeframe=1d|7d|30d`: public posts and public
//! scenarios of the window (default 7d; the newest 2,000 at most), ranked by
//! the score of `feeds::score`, each with its score and what made it.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::pagination::PageRequest;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::feeds::{self, Timeframe};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let paging = PageRequest::from_request(&req)?;
    let timeframe = Timeframe::parse(req.query_param("timeframe"))?;
    let tags = feeds::tags_param(&req)?;
    Ok(Reply::ok(feeds::trending(&ctx, None, timeframe, &paging, &tags).await?))
}
