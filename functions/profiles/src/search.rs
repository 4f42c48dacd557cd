//! `GET /api/profiles/search?q=`: public profiles whose name or username
//! has words beginning with every word of `q` (at least 2 characters; case
//! and Vietnamese diacritics ignored), whole-word matches first. One query
//! of the search items (`whatif_shared::social::search`), then one batch
//! read of the cards and counters of the page.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination};
use whatif_shared::social::authors::Author;
use whatif_shared::social::{authors, search};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

/// The most matches a search ranks.
const MAX_MATCHES: usize = 500;

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchAnswer {
    pub profiles: Vec<Found>,
    pub pagination: Pagination,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    #[serde(flatten)]
    pub author: Author,
    pub followers: u64,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let q = req.query_param("q").unwrap_or_default();
    // As the document says: 2 to 100 characters. Words of fewer than 2
    // characters find nothing (no name is indexed by one letter).
    if !(2..=100).contains(&q.chars().count()) {
        return Err(ApiError::validation("q", "must be 2 to 100 characters"));
    }
    let paging = PageRequest::from_request(&req)?;
    if paging.cursor.is_some() {
        return Err(ApiError::validation("cursor", "search pages by page and limit"));
    }
    let ids = search::find(&ctx, q, MAX_MATCHES).await?;
    let total = ids.len();
    let start = paging.offset().min(total);
    let end = (start + paging.limit as usize).min(total);
    let page = &ids[start..end];
    let (cards, counts) =
        futures::try_join!(authors::cards(&ctx, page), whatif_shared::social::stats::get_many(&ctx, page))?;
    // A profile made private after its words were read is left out.
    let profiles = page
        .iter()
        .filter_map(|id| {
            let author = cards.get(id.as_str())?.clone();
            let followers = counts.get(id.as_str()).map(|s| s.followers).unwrap_or(0);
            author.is_public().then_some(Found { author, followers })
        })
        .collect();
    Ok(Reply::ok(SearchAnswer { profiles, pagination: Pagination::new(paging.page, paging.limit, total as u64) }))
}
