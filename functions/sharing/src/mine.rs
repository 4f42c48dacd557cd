//! `GET /api/sharing/my`: the caller's shares, newest first, with their
//! status, links and view counts; `page`/`limit` with an exact total, or
//! `cursor` (the last share of the previous page, so shares made meanwhile
//! are neither skipped nor repeated). `scenarioId` keeps one scenario's.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination, page_in_memory};
use whatif_shared::ports::table::{Index, Query, query_all};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId, UserId, keys};

use crate::share::{OwnerShare, Share};

/// The most shares one listing reads.
pub const MAX_SHARES: usize = 10_000;

#[derive(Debug, Serialize, JsonSchema)]
pub struct MyShares {
    pub shares: Vec<OwnerShare>,
    pub pagination: Pagination,
    #[serde(rename = "nextCursor")]
    pub next_cursor: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let owner = req.user()?.id();
    let paging = PageRequest::from_request(&req)?;
    let only = match req.query_param("scenarioId") {
        None => None,
        Some(raw) => Some(ScenarioId::parse(raw).map_err(|_| ApiError::validation("scenarioId", "is not a valid id"))?),
    };
    let mut shares = all_of(&ctx, &owner).await?;
    if let Some(id) = &only {
        shares.retain(|s| *id == s.scenario_id);
    }
    // Newest first; the id breaks ties of one instant.
    let (page, pagination, next_cursor) =
        page_in_memory(&shares, &paging, |s| format!("{}#{}", s.created_at, s.share_url))?;
    let shares = page.iter().map(|s| s.owner_view(&ctx)).collect();
    Ok(Reply::ok(MyShares { shares, pagination, next_cursor }))
}

/// Every share of `owner`, newest first (GSI1), at most [`MAX_SHARES`].
pub async fn all_of(ctx: &AppContext, owner: &UserId) -> ApiResult<Vec<Share>> {
    let query = Query::partition(Index::Gsi1, keys::shares_of_owner(owner)).backward();
    query_all(ctx.table.as_ref(), query, MAX_SHARES).await?.into_iter().map(Share::from_item).collect()
}
