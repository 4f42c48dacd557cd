//! `GET /api/scenarios/my`: the caller's scenarios (without their text),
//! filtered, sorted and paged; see [`crate::listing`].

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store::{self, HistoryRow};
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::listing::Listing;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.id();
    let listing = Listing::from_request(&req, false)?;
    let kept = store::history(&ctx, &user)
        .await?
        .into_iter()
        .filter(|entry| listing.keeps(entry))
        .map(|entry| HistoryRow { entry, untexted: None })
        .collect();
    Ok(Reply::ok(listing.page(&ctx, &user, kept).await?))
}
