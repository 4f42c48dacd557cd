//! `GET /api/scenarios/search`: `q` (1–100 characters) over the title, topic,
//! tags and content of the caller's scenarios, without regard to case or
//! diacritics (`dieu` finds "Điều"); every word of `q` must start a word of
//! the scenario. Combines with the listing's filters, sort and paging.
//!
//! Each scenario keeps a search item in the owner's `TERMS#` partitions: the
//! scenario without its text and its distinct folded words, written with it.
//! A search reads those partitions at once, matches in memory, and answers
//! from the items (one table round trip). The figures behind this
//! design are in docs/performance.md.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::listing::Listing;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.id();
    let listing = Listing::from_request(&req, true)?;
    let kept = store::search_index(&ctx, &user)
        .await?
        .into_iter()
        .filter(|(row, terms)| listing.keeps(&row.entry) && listing.matches(terms))
        .map(|(row, _)| row)
        .collect();
    Ok(Reply::ok(listing.page(&ctx, &user, kept).await?))
}
